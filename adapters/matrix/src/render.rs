//! Message content: Markdown rendered to HTML (raw HTML escaped) with a plain-text body, sent as
//! `m.notice` with empty `m.mentions`, in a thread or as a reply when asked.

use pulldown_cmark::{Event, Options, Parser, html};
use serde_json::{Value, json};

/// Renders Markdown to HTML. Raw HTML in the text (the bot's own text may quote a user) is shown
/// as text, never interpreted.
pub fn to_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out.trim_end().to_string()
}

/// The content of a reply: an `m.notice` that pings nobody.
pub fn notice(markdown: &str, reply_to: Option<&str>, thread: Option<&str>) -> Value {
    let mut content = json!({
        "msgtype": "m.notice",
        "body": markdown,
        "format": "org.matrix.custom.html",
        "formatted_body": to_html(markdown),
        "m.mentions": {},
    });
    match (thread, reply_to) {
        (Some(root), reply) => {
            content["m.relates_to"] = json!({
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": reply.is_none(),
                "m.in_reply_to": {"event_id": reply.unwrap_or(root)},
            });
        }
        (None, Some(reply)) => {
            content["m.relates_to"] = json!({"m.in_reply_to": {"event_id": reply}});
        }
        (None, None) => {}
    }
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html_and_raw_html_is_escaped() {
        let h =
            to_html("**Help** is here: [Childline](https://www.childline.org.uk)\n\n- one\n- two");
        assert!(h.contains("<strong>Help</strong>"), "{h}");
        assert!(
            h.contains("<a href=\"https://www.childline.org.uk\">"),
            "{h}"
        );
        assert!(h.contains("<li>one</li>"), "{h}");
        let h = to_html("you said <script>alert(1)</script> and <b>hi</b>");
        assert!(!h.contains("<script>") && !h.contains("<b>"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn notices_ping_nobody_and_follow_threads() {
        let c = notice("hi @room", None, None);
        assert_eq!(c["msgtype"], "m.notice");
        assert_eq!(c["m.mentions"], json!({}));
        assert_eq!(c["body"], "hi @room");
        assert!(c.get("m.relates_to").is_none());
        let c = notice("x", Some("$m"), Some("$root"));
        assert_eq!(c["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(c["m.relates_to"]["event_id"], "$root");
        assert_eq!(c["m.relates_to"]["m.in_reply_to"]["event_id"], "$m");
        let c = notice("x", Some("$m"), None);
        assert_eq!(
            c["m.relates_to"],
            json!({"m.in_reply_to": {"event_id": "$m"}})
        );
    }
}
