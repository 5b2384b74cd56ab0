//! Markdown to readable terminal text, for the console chat.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// Renders Markdown as plain terminal text; with `ansi`, bold and italics use terminal styles.
/// Links show their address after the text; lists get bullets; rules become a line.
pub fn to_terminal(markdown: &str, ansi: bool) -> String {
    let (bold_on, bold_off, it_on, it_off) = if ansi {
        ("\x1b[1m", "\x1b[22m", "\x1b[3m", "\x1b[23m")
    } else {
        ("", "", "", "")
    };
    let mut out = String::new();
    let mut links: Vec<String> = Vec::new();
    let mut list_depth = 0usize;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Strong) | Event::Start(Tag::Heading { .. }) => out.push_str(bold_on),
            Event::End(TagEnd::Strong) => out.push_str(bold_off),
            Event::End(TagEnd::Heading(_)) => {
                out.push_str(bold_off);
                out.push_str("\n\n");
            }
            Event::Start(Tag::Emphasis) => out.push_str(it_on),
            Event::End(TagEnd::Emphasis) => out.push_str(it_off),
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = links.pop()
                    && !out.ends_with(url.as_str())
                {
                    out.push_str(&format!(" <{url}>"));
                }
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => {
                list_depth = list_depth.saturating_sub(1);
                if list_depth == 0 {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(list_depth.saturating_sub(1)));
                out.push_str("  • ");
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::Paragraph) => out.push_str(if list_depth > 0 { "" } else { "\n\n" }),
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("────────────────────────────────────────\n\n"),
            _ => {}
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::to_terminal;

    #[test]
    fn renders_readably() {
        let text = to_terminal(
            "**Help in Kenya**\n\n- **Childline**: call **116** · [site](https://x.example)\n\n_Sources: [A](https://a.example)._",
            false,
        );
        assert!(text.starts_with("Help in Kenya"));
        assert!(text.contains("  • Childline: call 116 · site <https://x.example>"));
        assert!(text.contains("Sources: A <https://a.example>."));
        assert!(!text.contains("**"));
        let nested = to_terminal("- one:\n  - two\n  - three\n- four", false);
        assert_eq!(nested, "  • one:\n    • two\n    • three\n  • four");
        let styled = to_terminal("**bold**", true);
        assert_eq!(styled, "\x1b[1mbold\x1b[22m");
    }
}
