-- Noise-reduction recommendations, the most pages saved first.
-- params: none
-- optional: recommendations
select *
from recommendations
order by pages_saved desc nulls last, recommendation_id
