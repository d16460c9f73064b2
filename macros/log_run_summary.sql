{#- on-run-end hook: one log line with how many nodes passed, warned or failed. -#}
{% macro log_run_summary(results) -%}
    {%- if execute -%}
        {%- set counts = {} -%}
        {%- for result in results -%}
            {%- set status = result.status | string -%}
            {%- do counts.update({status: counts.get(status, 0) + 1}) -%}
        {%- endfor -%}
        {%- set parts = [] -%}
        {%- for status in counts | sort -%}
            {%- do parts.append(status ~ '=' ~ counts[status]) -%}
        {%- endfor -%}
        {{ log('The Hanger run summary: ' ~ (parts | join(', ')), info=true) }}
    {%- endif -%}
{%- endmacro %}
