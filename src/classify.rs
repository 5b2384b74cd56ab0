//! `waymark classify`: JSON Lines in, one decision per line out, exactly as `spec/decisions.md`
//! says. A line that is not valid JSON, or lacks `text`, gets `{"error": "…"}`; the run goes on.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::engine::{ConversationState, Decision, Engine};
use crate::knowledge::Audience;

/// Most conversations `classify` remembers at once; the oldest is forgotten beyond this.
const MAX_USERS: usize = 10_000;

#[derive(Debug, Deserialize)]
struct Input {
    text: Option<Value>,
    audience: Option<Value>,
    country: Option<Value>,
    user: Option<Value>,
}

/// Classifies JSON Lines from a reader, writing one JSON line per input line and flushing each.
pub struct Classifier<'a> {
    engine: &'a Engine,
    users: HashMap<String, ConversationState>,
    order: std::collections::VecDeque<String>,
    explain: bool,
}

impl<'a> Classifier<'a> {
    /// A classifier over an engine. With `explain`, each output also carries `why` and `normalized`.
    pub fn new(engine: &'a Engine, explain: bool) -> Self {
        Classifier {
            engine,
            users: HashMap::new(),
            order: Default::default(),
            explain,
        }
    }

    /// Classifies one input line (bytes, possibly invalid UTF-8) into one output object.
    pub fn line(&mut self, line: &[u8]) -> Value {
        let input: Input = match serde_json::from_slice(line) {
            Ok(input) => input,
            Err(e) => return json!({"error": format!("not a JSON object: {e}")}),
        };
        let text = match input.text {
            Some(Value::String(t)) => t,
            Some(_) => return json!({"error": "`text` must be a string"}),
            None => return json!({"error": "missing `text`"}),
        };
        let audience = match input.audience {
            None | Some(Value::Null) => None,
            Some(Value::String(a)) => match Audience::parse(&a) {
                Some(a) => Some(a),
                None => {
                    return json!({"error": format!("`audience` must be young_person, practitioner or moderator, not {a:?}")});
                }
            },
            Some(_) => return json!({"error": "`audience` must be a string"}),
        };
        let country = match input.country {
            None | Some(Value::Null) => None,
            Some(Value::String(c))
                if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) =>
            {
                Some(c.to_ascii_uppercase())
            }
            Some(_) => {
                return json!({"error": "`country` must be an ISO 3166-1 alpha-2 code such as \"GB\""});
            }
        };
        let user = match input.user {
            None | Some(Value::Null) => None,
            Some(Value::String(u)) => Some(u),
            Some(other) => Some(other.to_string()),
        };
        let mut state = user
            .as_ref()
            .and_then(|u| self.users.get(u))
            .cloned()
            .unwrap_or_default();
        if let Some(a) = audience {
            state.audience = Some(a);
        }
        if let Some(c) = country {
            state.country = Some(c);
        }
        let decision = self.engine.decide(&text, &state);
        if let Some(u) = user {
            self.remember(u, decision.state.clone());
        }
        self.output(&decision)
    }

    fn remember(&mut self, user: String, state: ConversationState) {
        if !self.users.contains_key(&user) {
            self.order.push_back(user.clone());
            if self.order.len() > MAX_USERS
                && let Some(old) = self.order.pop_front()
            {
                self.users.remove(&old);
            }
        }
        self.users.insert(user, state);
    }

    fn output(&self, d: &Decision) -> Value {
        let risk = d
            .risk
            .map(|r| json!({"category": r.category.as_str(), "severity": r.severity.as_str()}));
        let mut out = json!({
            "intent": d.intent.as_str(),
            "risk": risk,
            "escalate": d.escalate,
            "entries": d.entries,
            "country": d.country,
            "reply": d.reply,
        });
        if self.explain
            && let Some(map) = out.as_object_mut()
        {
            map.insert("why".into(), json!(d.why));
            map.insert("normalized".into(), json!(d.normalized));
            map.insert("audience".into(), json!(d.audience.as_str()));
            map.insert(
                "risks".into(),
                json!(d.risks.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
            );
        }
        out
    }

    /// Runs over a whole reader, writing to a writer.
    pub fn run<R: BufRead, W: Write>(
        &mut self,
        mut input: R,
        mut output: W,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if input.read_until(b'\n', &mut buf)? == 0 {
                return Ok(());
            }
            let value = self.line(trim_line(&buf));
            serde_json::to_writer(&mut output, &value)?;
            output.write_all(b"\n")?;
            output.flush()?;
        }
    }
}

fn trim_line(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end > 0 && (buf[end - 1] == b'\n' || buf[end - 1] == b'\r') {
        end -= 1;
    }
    &buf[..end]
}
