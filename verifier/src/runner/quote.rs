//! Shell quoting: command lines shown to the learner can be pasted into a terminal.

/// Shell-quotes words so a learner can paste the line into a terminal.
pub fn quote<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(|w| match shlex::try_quote(w) {
            // Bash's $'…' keeps a word with line breaks or tabs on one line.
            Ok(_) if w.contains(['\n', '\t', '\r']) => ansi_c_quote(w),
            Ok(quoted) => quoted.into_owned(),
            // A word with a NUL byte cannot be passed on a command line at all.
            Err(_) => format!("{w:?}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$'two\nlines'`: bash's quoting with escapes, for words with control characters.
fn ansi_c_quote(word: &str) -> String {
    let mut out = String::from("$'");
    for c in word.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_words_for_pasting() {
        assert_eq!(
            quote(["append", "hello world", "it's"]),
            r#"append 'hello world' "it's""#
        );
        assert_eq!(
            quote(["append", "two\nlines", "tab\there's"]),
            r#"append $'two\nlines' $'tab\there\'s'"#
        );
    }
}
