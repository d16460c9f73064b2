//! Named top-level blocks in files: `{% snapshot name %}…{% endsnapshot %}`
//! in snapshot files and `{% docs name %}…{% enddocs %}` in Markdown files.

use std::sync::LazyLock;

use regex::Regex;

/// One block: its name, body and the 1-based line where the body starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    pub name: &'a str,
    pub body: &'a str,
    pub line: usize,
}

/// Problem with block structure, with the 1-based line where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockError {
    pub line: usize,
    pub message: String,
}

static SNAPSHOT: LazyLock<(Regex, Regex)> = LazyLock::new(|| block_regexes("snapshot"));
static DOCS: LazyLock<(Regex, Regex)> = LazyLock::new(|| block_regexes("docs"));

fn block_regexes(tag: &str) -> (Regex, Regex) {
    let start = format!(r"\{{%-?\s*{tag}\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}}");
    let end = format!(r"\{{%-?\s*end{tag}\s*-?%\}}");
    (
        Regex::new(&start).expect("static regex"),
        Regex::new(&end).expect("static regex"),
    )
}

pub fn snapshot_blocks(text: &str) -> Result<Vec<Block<'_>>, BlockError> {
    find_blocks(text, &SNAPSHOT, "snapshot")
}

pub fn docs_blocks(text: &str) -> Result<Vec<Block<'_>>, BlockError> {
    find_blocks(text, &DOCS, "docs")
}

fn find_blocks<'a>(
    text: &'a str,
    (start, end): &(Regex, Regex),
    tag: &str,
) -> Result<Vec<Block<'a>>, BlockError> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while let Some(open) = start.captures_at(text, pos) {
        let whole = open.get(0).expect("match");
        let name = open.get(1).expect("group").as_str();
        let line = line_of(text, whole.start());
        let Some(close) = end.find_at(text, whole.end()) else {
            return Err(BlockError {
                line,
                message: format!("`{{% {tag} {name} %}}` has no matching `{{% end{tag} %}}`"),
            });
        };
        if let Some(nested) = start
            .find_at(text, whole.end())
            .filter(|n| n.start() < close.start())
        {
            return Err(BlockError {
                line: line_of(text, nested.start()),
                message: format!("a `{tag}` block cannot be nested inside `{tag} {name}`"),
            });
        }
        blocks.push(Block {
            name,
            body: &text[whole.end()..close.start()],
            line: line_of(text, whole.end()),
        });
        pos = close.end();
    }
    Ok(blocks)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_named_blocks() {
        let text = "{% snapshot a %}\nselect 1\n{% endsnapshot %}\n\n{%- snapshot b -%}select 2{%- endsnapshot -%}";
        let blocks = snapshot_blocks(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].name, "a");
        assert_eq!(blocks[0].body, "\nselect 1\n");
        assert_eq!(blocks[1].body, "select 2");
        assert_eq!(blocks[1].line, 5);
    }

    #[test]
    fn unclosed_block_is_located() {
        let err = docs_blocks("text\n{% docs x %}\nbody").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("enddocs"));
    }
}
