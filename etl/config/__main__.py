"""``python -m etl.config > etl/defaults.toml``"""

from etl.config.render import render_defaults

print(render_defaults(), end="")
