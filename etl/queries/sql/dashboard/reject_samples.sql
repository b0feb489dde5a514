-- params: limit bigint
-- optional: _rejects
select source, record_key, reason, payload, run_id, rejected_at
from _rejects order by rejected_at desc, source, record_key limit $limit
