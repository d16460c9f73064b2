//! A parse moves the property files' entries into nodes: the session keeps
//! only their text, and refuses to be parsed a second time.

use std::path::PathBuf;

use hangar_engine::invocation::Invocation;
use hangar_engine::parse::parse_project;
use hangar_engine::session::load_session;

fn gym_mini() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gym_mini")
}

#[test]
fn parse_releases_property_entries_and_refuses_a_second_parse() {
    let mut session = load_session(Invocation::new(gym_mini(), "parse")).expect("fixture loads");
    let property_texts: Vec<_> = session
        .root_package()
        .properties
        .iter()
        .map(|f| f.contents.clone())
        .collect();
    assert!(
        session
            .root_package()
            .properties
            .iter()
            .any(|f| !f.models.is_empty())
    );

    let parsed = parse_project(&mut session).expect("fixture parses");
    // What the entries described is in the parsed project.
    let described = parsed
        .nodes
        .values()
        .filter(|n| !n.description.is_empty())
        .count();
    assert!(described > 0);
    assert!(parsed.nodes.values().any(|n| !n.columns.is_empty()));

    let root = session.root_package();
    assert!(
        root.properties
            .iter()
            .all(|f| f.models.is_empty() && f.sources.is_empty())
    );
    let kept: Vec<_> = root.properties.iter().map(|f| f.contents.clone()).collect();
    assert_eq!(kept, property_texts);

    let again = parse_project(&mut session)
        .err()
        .expect("a second parse is refused");
    assert!(
        again.diagnostics[0].message.contains("parsed already"),
        "{:?}",
        again.diagnostics
    );
}
