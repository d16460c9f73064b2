//! Broken templates and macro files give errors, never panics: a small
//! deterministic fuzz over the fragments the expression rewriter looks at.

mod support;

use hangar_jinja::{NodeInput, Phase};
use support::{Names, jinja_with_macros};

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    " set x = ",
    " do ",
    "x.append(1)",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    "'%s'",
    "'%(a)s'",
    " % ",
    " + ",
    " - ",
    "-",
    "+",
    "%",
    "'",
    "\"",
    "é",
    "日本",
    "modules.datetime.datetime.now()",
    "modules.datetime.timedelta(days=1)",
    " caller(1) ",
    "call(r) m()",
    " endcall ",
    "macro m(a=[])",
    " endmacro ",
    " if ",
    " endif ",
    " for i in ",
    " endfor ",
    " raw ",
    " endraw ",
    "ref('a')",
    ",",
    ":",
    "|",
    "~",
    "1",
    "a",
    "\n",
    "\\",
];

/// A deterministic xorshift, so a failure can be reproduced.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn random_text(state: &mut u64) -> String {
    let len = 1 + next(state) % 14;
    (0..len)
        .map(|_| FRAGMENTS[(next(state) % FRAGMENTS.len() as u64) as usize])
        .collect()
}

#[test]
fn random_templates_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..2000 {
        let macros = format!(
            "{{% macro m(a=[]) %}}{}{{% endmacro %}}",
            random_text(&mut state)
        );
        let model = random_text(&mut state);
        let outcome = std::panic::catch_unwind(|| {
            let (jinja, _diagnostics) = jinja_with_macros(&macros);
            let node = NodeInput::new(Phase::Compile, "proj", "models/m.sql", &model);
            let _ = jinja.render_node(&node, &Names, None);
        });
        assert!(
            outcome.is_ok(),
            "panicked on macros {macros:?} and model {model:?}"
        );
    }
}
