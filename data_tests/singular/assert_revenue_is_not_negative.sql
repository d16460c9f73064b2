{{ config(severity='error', tags=['finance']) }}

-- No gym can have negative revenue in any month and stream.
select *
from {{ ref('revenue_per_gym_monthly') }}
where membership_revenue < 0
    or day_pass_revenue < 0
    or retail_revenue < 0
