with members as (

    select * from {{ ref('stg_gym_ops__members') }}

),

periods as (

    select * from {{ ref('int_membership_periods') }}

),

latest_period as (

    select
        member_id,
        plan_name as current_plan_name,
        membership_status as current_membership_status,
        is_current,
        row_number() over (partition by member_id order by started_on desc, membership_id desc) as recency
    from periods

),

period_totals as (

    select
        member_id,
        count(*) as membership_period_count,
        min(started_on) as first_membership_started_on,
        sum(period_days) as total_membership_days
    from periods
    group by member_id

),

visits as (

    select
        member_id,
        count(*) as lifetime_visits,
        min(visit_date) as first_visit_date,
        max(visit_date) as last_visit_date
    from {{ ref('int_member_visits_enriched') }}
    group by member_id

)

select
    members.member_id,
    members.first_name,
    members.last_name,
    {{ dbt.concat(['members.first_name', "' '", 'members.last_name']) }} as full_name,
    members.email,
    members.birth_date,
    members.home_gym_id,
    members.joined_on,
    latest_period.current_plan_name,
    latest_period.current_membership_status,
    coalesce(latest_period.is_current, false) as is_active_member,
    coalesce(period_totals.membership_period_count, 0) as membership_period_count,
    period_totals.first_membership_started_on,
    coalesce(period_totals.total_membership_days, 0) as total_membership_days,
    coalesce(visits.lifetime_visits, 0) as lifetime_visits,
    visits.first_visit_date,
    visits.last_visit_date
from members
left join latest_period
    on members.member_id = latest_period.member_id
    and latest_period.recency = 1
left join period_totals
    on members.member_id = period_totals.member_id
left join visits
    on members.member_id = visits.member_id
