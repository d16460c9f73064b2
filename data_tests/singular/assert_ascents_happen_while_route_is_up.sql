-- An ascent can only be logged on a route that is on the wall that day:
-- on or after the day it was set and before the day it was stripped.
select
    ascents.ascent_id,
    ascents.climbed_on,
    routes.set_on,
    routes.removed_on
from {{ ref('fct_ascents') }} as ascents
inner join {{ ref('dim_routes') }} as routes
    on ascents.route_id = routes.route_id
where ascents.climbed_on < routes.set_on
    or ascents.climbed_on >= routes.removed_on
