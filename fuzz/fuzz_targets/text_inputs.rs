//! Every text hangar parses on its own: selection expressions, selectors.yml,
//! project files and property YAML. Errors are expected; panics are bugs.
//! Also: the fast YAML subset parser never disagrees with yaml_serde.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use hangar_project::SourceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 5 {
        0 => {
            let (select, exclude) = text.split_once('\n').unwrap_or((&text, ""));
            let words = |s: &str| s.split('\t').map(str::to_string).collect::<Vec<_>>();
            let _ = hangar_graph::parse_selection(&words(select), &words(exclude));
        }
        1 => {
            let _ = hangar_graph::selector::parse_selectors_yml(&text, "selectors.yml");
        }
        2 => {
            let text: Arc<str> = Arc::from(text.as_ref());
            let _ =
                hangar_project::project::parse_project_config(Path::new("dbt_project.yml"), &text);
        }
        3 => {
            let file = SourceFile {
                package: "fuzz".to_string(),
                path: "models/schema.yml".into(),
                abs_path: "/fuzz/models/schema.yml".into(),
                contents: Arc::from(text.as_ref()),
                checksum: String::new(),
            };
            let _ = hangar_project::properties::parse_property_file(
                &file,
                Path::new("models/schema.yml"),
            );
        }
        _ => assert!(
            hangar_project::yaml_subset_agrees(&text),
            "the YAML subset parser and yaml_serde disagree"
        ),
    }
});
