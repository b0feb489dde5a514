select resource, value
from _watermarks
