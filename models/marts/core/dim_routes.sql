with routes as (

    select * from {{ ref('stg_gym_ops__routes') }}

),

setters as (

    select * from {{ ref('stg_gym_ops__route_setters') }}

),

ascent_stats as (

    select
        route_id,
        count(*) as ascent_count,
        sum(case when is_send then 1 else 0 end) as send_count,
        count(rating) as rating_count,
        avg(cast(rating as {{ dbt.type_numeric() }})) as average_rating
    from {{ ref('int_ascents_enriched') }}
    group by route_id

)

select
    routes.route_id,
    routes.gym_id,
    routes.wall_name,
    routes.discipline,
    routes.grade,
    routes.grade_rank,
    routes.hold_color,
    routes.setter_id,
    setters.setter_name,
    routes.set_on,
    routes.removed_on,
    routes.is_on_wall,
    {{ dbt.datediff('routes.set_on', "coalesce(routes.removed_on, cast('" ~ var('reporting_end_date') ~ "' as date))", 'day') }} as days_on_wall,
    coalesce(ascent_stats.ascent_count, 0) as ascent_count,
    coalesce(ascent_stats.send_count, 0) as send_count,
    coalesce(ascent_stats.rating_count, 0) as rating_count,
    ascent_stats.average_rating
from routes
left join setters
    on routes.setter_id = setters.setter_id
left join ascent_stats
    on routes.route_id = ascent_stats.route_id
