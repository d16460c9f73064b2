-- Per month: memberships running at the start, started, churned, and the
-- churn rate (churned / running at start).
with months as (

    select cast(date_month as date) as month_start_date
    from {{ ref('int_month_spine') }}

),

periods as (

    select * from {{ ref('int_membership_periods') }}

),

monthly as (

    select
        months.month_start_date,
        sum(case
            when periods.started_on < months.month_start_date
                and (periods.ended_on is null or periods.ended_on >= months.month_start_date)
            then 1 else 0 end) as active_at_month_start,
        sum(case
            when {{ dbt.date_trunc('month', 'periods.started_on') }} = months.month_start_date
            then 1 else 0 end) as started_count,
        sum(case
            when periods.is_churned
                and {{ dbt.date_trunc('month', 'periods.ended_on') }} = months.month_start_date
            then 1 else 0 end) as churned_count
    from months
    cross join periods
    group by months.month_start_date

)

select
    month_start_date,
    active_at_month_start,
    started_count,
    churned_count,
    active_at_month_start + started_count - churned_count as net_active_change_basis,
    case
        when active_at_month_start = 0 then null
        else cast(churned_count as {{ dbt.type_numeric() }}) / active_at_month_start
    end as churn_rate
from monthly
