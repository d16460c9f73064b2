{#-
    Climbing grades as numbers, so routes of one discipline can be ordered
    and averaged. Bouldering uses the V scale (V0..V10 -> 0..10); rope routes
    the Yosemite decimal system (5.8, 5.9, 5.10a..5.13d -> 0..17).
-#}
{% macro boulder_grades() -%}
    {%- set grades = [] -%}
    {%- for number in range(0, 11) -%}
        {%- do grades.append('V' ~ number) -%}
    {%- endfor -%}
    {{ return(grades) }}
{%- endmacro %}

{% macro rope_grades() -%}
    {%- set grades = ['5.8', '5.9'] -%}
    {%- for number in [10, 11, 12, 13] -%}
        {%- for letter in ['a', 'b', 'c', 'd'] -%}
            {%- do grades.append('5.' ~ number ~ letter) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(grades) }}
{%- endmacro %}

{% macro grade_rank(grade_column) -%}
    case {{ grade_column }}
    {%- for grade in boulder_grades() %}
        when '{{ grade }}' then {{ loop.index0 }}
    {%- endfor %}
    {%- for grade in rope_grades() %}
        when '{{ grade }}' then {{ loop.index0 }}
    {%- endfor %}
    end
{%- endmacro %}
