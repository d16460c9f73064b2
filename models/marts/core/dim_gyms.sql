with gyms as (

    select * from {{ ref('stg_gym_ops__gyms') }}

),

home_members as (

    select
        home_gym_id as gym_id,
        count(*) as home_member_count
    from {{ ref('stg_gym_ops__members') }}
    group by home_gym_id

),

routes as (

    select
        gym_id,
        count(*) as routes_set_count,
        cast(sum(case when is_on_wall then 1 else 0 end) as bigint) as routes_on_wall_count
    from {{ ref('stg_gym_ops__routes') }}
    group by gym_id

)

select
    gyms.gym_id,
    gyms.gym_name,
    gyms.city,
    gyms.state_code,
    gyms.opened_on,
    gyms.wall_area_sqm,
    gyms.has_lead_walls,
    coalesce(home_members.home_member_count, 0) as home_member_count,
    coalesce(routes.routes_set_count, 0) as routes_set_count,
    coalesce(routes.routes_on_wall_count, 0) as routes_on_wall_count
from gyms
left join home_members
    on gyms.gym_id = home_members.gym_id
left join routes
    on gyms.gym_id = routes.gym_id
