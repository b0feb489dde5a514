-- Noise-reduction recommendations, the most pages saved first.
select *
from recommendations
order by pages_saved desc nulls last, recommendation_id
