--- options
{"project_vars": {"v": "global"}, "package_vars": {"proj": {"v": "scoped"}, "other": {"v": "nope"}}}
--- model
{{ var('v') }} {{ var.has_var('v') }} {{ var.has_var('zzz') }}
