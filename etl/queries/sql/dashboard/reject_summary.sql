-- params: none
-- optional: _rejects
select source, reason, count(*) as records, max(rejected_at) as last_rejected_at
from _rejects group by source, reason order by records desc, source, reason
