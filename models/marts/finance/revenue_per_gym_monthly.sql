-- Revenue per gym and month by stream, in dollars. Membership revenue is
-- attributed to the member's home gym for every month the period covers.
{% set streams = ['membership', 'day_pass', 'retail'] %}

with months as (

    select cast(date_month as date) as month_start_date
    from {{ ref('int_month_spine') }}

),

membership_revenue as (

    select
        members.home_gym_id as gym_id,
        months.month_start_date,
        sum(periods.monthly_fee_cents) as amount_cents
    from {{ ref('int_membership_periods') }} as periods
    inner join {{ ref('stg_gym_ops__members') }} as members
        on periods.member_id = members.member_id
    inner join months
        on {{ dbt.date_trunc('month', 'periods.started_on') }} <= months.month_start_date
        and periods.effective_end_on >= months.month_start_date
    where periods.membership_status <> 'paused'
    group by members.home_gym_id, months.month_start_date

),

day_pass_revenue as (

    select
        gym_id,
        cast({{ dbt.date_trunc('month', 'sold_at') }} as date) as month_start_date,
        sum(amount_cents) as amount_cents
    from {{ ref('stg_gym_ops__day_pass_sales') }}
    group by gym_id, cast({{ dbt.date_trunc('month', 'sold_at') }} as date)

),

retail_revenue as (

    select
        gym_id,
        cast({{ dbt.date_trunc('month', 'sold_at') }} as date) as month_start_date,
        sum(amount_cents) as amount_cents
    from {{ ref('stg_gym_ops__retail_sales') }}
    group by gym_id, cast({{ dbt.date_trunc('month', 'sold_at') }} as date)

),

gym_months as (

    select
        gyms.gym_id,
        gyms.gym_name,
        months.month_start_date
    from {{ ref('dim_gyms') }} as gyms
    cross join months

)

select
    gym_months.gym_id,
    gym_months.gym_name,
    gym_months.month_start_date,
    {%- for stream in streams %}
    {{ cents_to_dollars('coalesce(' ~ stream ~ '_revenue.amount_cents, 0)') }} as {{ stream }}_revenue,
    {%- endfor %}
    {%- set amounts = [] %}
    {%- for stream in streams %}
        {%- do amounts.append('coalesce(' ~ stream ~ '_revenue.amount_cents, 0)') %}
    {%- endfor %}
    {{ cents_to_dollars(amounts | join(' + ')) }} as total_revenue
from gym_months
{%- for stream in streams %}
left join {{ stream }}_revenue
    on gym_months.gym_id = {{ stream }}_revenue.gym_id
    and gym_months.month_start_date = {{ stream }}_revenue.month_start_date
{%- endfor %}
