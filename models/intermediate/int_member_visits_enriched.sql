-- Check-ins with the member's context: which visit it is for them, whether
-- they climbed at their home gym, and when in the week and day it happened.
with check_ins as (

    select * from {{ ref('stg_gym_ops__check_ins') }}

),

members as (

    select * from {{ ref('stg_gym_ops__members') }}

),

enriched as (

    select
        check_ins.check_in_id,
        check_ins.member_id,
        check_ins.gym_id,
        check_ins.checked_in_at,
        check_ins.checked_out_at,
        check_ins.duration_minutes,
        cast({{ dbt.date_trunc('day', 'check_ins.checked_in_at') }} as date) as visit_date,
        {{ day_of_week('check_ins.checked_in_at') }} as iso_day_of_week,
        cast(extract(hour from check_ins.checked_in_at) as {{ dbt.type_int() }}) as hour_of_day,
        check_ins.gym_id = members.home_gym_id as is_home_gym,
        row_number() over (
            partition by check_ins.member_id
            order by check_ins.checked_in_at, check_ins.check_in_id
        ) as member_visit_number
    from check_ins
    inner join members
        on check_ins.member_id = members.member_id

)

select
    *,
    iso_day_of_week >= 6 as is_weekend
from enriched
