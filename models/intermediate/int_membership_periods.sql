-- Membership periods with an effective end, a length, and whether the
-- period ended in churn (the member left and did not come back right away).
with memberships as (

    select * from {{ ref('stg_gym_ops__memberships') }}

),

ordered as (

    select
        *,
        lead(started_on) over (
            partition by member_id
            order by started_on, membership_id
        ) as next_started_on
    from memberships

)

select
    membership_id,
    member_id,
    plan_name,
    membership_status,
    monthly_fee_cents,
    started_on,
    ended_on,
    coalesce(ended_on, cast('{{ var("reporting_end_date") }}' as date)) as effective_end_on,
    {{ dbt.datediff('started_on', "coalesce(ended_on, cast('" ~ var('reporting_end_date') ~ "' as date))", 'day') }} + 1 as period_days,
    ended_on is null as is_current,
    ended_on is not null
        and membership_status in ('cancelled', 'expired') as is_churned,
    next_started_on is not null as has_returned
from ordered
