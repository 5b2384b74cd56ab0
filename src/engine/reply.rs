//! Composing replies from reviewed words only: entries, helpline files and fixed templates.

use super::{Decision, Engine, Intent, rules};
use crate::knowledge::{Audience, Confidence, Country, Entry};

/// Entries that fit almost any disclosure (see [`Engine::risk_reply`]).
const GENERAL_ENTRIES: &[&str] = &[
    "yp-not-your-fault",
    "yp-telling-someone",
    "yp-block-report",
    "reporting-services",
    "pr-responding-to-disclosure",
];

/// At most this many related entries follow a guidance answer.
const MAX_RELATED: usize = 2;

impl Engine {
    pub(super) fn risk_reply(&self, d: &mut Decision, terms: &[String]) {
        let Some(risk) = d.risk else { return };
        let audience = d.audience;
        let mut entries: Vec<String> = Vec::new();
        if audience == Audience::YoungPerson
            && rules::THIRD_PARTY.is_match(&d.normalized)
            && self.knowledge.entry("yp-worried-friend").is_some()
        {
            entries.push("yp-worried-friend".into());
        }
        // The leading category's entries, then the others', then what the words retrieve.
        for category in &d.risks {
            if let Some(safety) = self.knowledge.safety_category(*category) {
                for id in safety.entries.get(audience) {
                    if !entries.contains(id) {
                        entries.push(id.clone());
                    }
                }
            }
        }
        let retrieved = self.search(terms, audience);
        let score = |id: &str| {
            retrieved
                .iter()
                .find(|h| h.id == id)
                .map(|h| h.score)
                .unwrap_or(0.0)
        };
        // The leading category's entries come in a fixed order; when the words clearly fit a later
        // one better ("a deepfake of me" → the AI-fakes entry before the shared-images one), it
        // moves up. A third-party disclosure keeps the worried-friend entry first.
        let fixed = usize::from(entries.first().is_some_and(|e| e == "yp-worried-friend"));
        if let Some(head) = entries.get(fixed).cloned() {
            // Only a topical entry moves up: the general ones ("it is not your fault", "telling
            // someone") fit almost any disclosure's words and stay where the category put them.
            let best_listed = entries
                .iter()
                .skip(fixed + 1)
                .filter(|e| !GENERAL_ENTRIES.contains(&e.as_str()))
                .max_by(|a, b| score(a).total_cmp(&score(b)))
                .cloned();
            if let Some(better) = best_listed
                && score(&better) >= super::GUIDANCE_THRESHOLD
                && score(&better) > score(&head) * 1.3
                && let Some(at) = entries.iter().position(|e| *e == better)
            {
                let moved = entries.remove(at);
                entries.insert(fixed, moved);
            }
        }
        if let Some(best) = retrieved.first() {
            // A strongly matching entry the category did not list goes after the first.
            if best.score >= super::GUIDANCE_THRESHOLD * 1.5 && !entries.contains(&best.id) {
                let at = entries.len().min(1);
                entries.insert(at, best.id.clone());
            }
        }
        entries.truncate(3);
        if let Some(code) = &d.country
            && let Some(country) = self.knowledge.country(code)
        {
            entries.push(country.entry_id());
        }
        let mut reply = String::new();
        if let Some(safety) = self.knowledge.safety_category(risk.category) {
            reply.push_str(safety.reply.get(audience));
        }
        reply.push_str("\n\n");
        reply.push_str(&self.signposting_block(d, true));
        reply.push_str("\n\n");
        let replies = self.knowledge.replies();
        reply.push_str(if self.options.escalation {
            replies.moderator_told.trim()
        } else {
            replies.moderator_offline.trim()
        });
        if let Some(entry) = entries.first().and_then(|id| self.knowledge.entry(id)) {
            reply.push_str("\n\n---\n\n");
            reply.push_str(&render_entry(entry));
            let more: Vec<&Entry> = entries
                .iter()
                .skip(1)
                .filter_map(|id| self.knowledge.entry(id))
                .take(MAX_RELATED)
                .collect();
            if !more.is_empty() {
                reply.push_str("\n\n");
                reply.push_str(&more_line(&more));
            }
            d.state.last_topic = Some(entry.id.clone());
        }
        d.entries = entries;
        d.reply = reply;
    }

    pub(super) fn human_reply(&self, d: &mut Decision) {
        d.intent = Intent::Human;
        d.escalate = true;
        let replies = self.knowledge.replies();
        let mut reply = if self.options.escalation {
            replies.human.trim()
        } else {
            replies.human_offline.trim()
        }
        .to_string();
        reply.push_str("\n\n");
        reply.push_str(&self.signposting_block(d, true));
        d.reply = reply;
    }

    pub(super) fn signposting_reply(&self, d: &mut Decision) {
        d.intent = Intent::Signposting;
        let reporting = rules::REPORTING.is_match(&d.normalized);
        let mut reply = String::new();
        if reporting && let Some(entry) = self.knowledge.entry("reporting-services") {
            d.entries.push(entry.id.clone());
            reply.push_str(&render_entry(entry));
            reply.push_str("\n\n");
        }
        if let Some(country) = d.country.as_deref().and_then(|c| self.knowledge.country(c)) {
            d.entries.push(country.entry_id());
        }
        reply.push_str(&self.signposting_block(d, false));
        d.reply = reply.trim_end().to_string();
    }

    /// The helplines for the decision's country, or the international services and a request for
    /// the country. `short` keeps to the top three services (inside a risk reply).
    fn signposting_block(&self, d: &mut Decision, short: bool) -> String {
        let known = d.country.as_deref().and_then(|c| self.knowledge.country(c));
        match known {
            Some(country) => render_country(country, short),
            None => {
                let mut out = String::new();
                if let Some(code) = &d.country {
                    out.push_str(&format!(
                        "I don't have checked helplines for {code} yet, so here are services that work anywhere.\n\n"
                    ));
                } else {
                    d.state.awaiting_country = true;
                }
                out.push_str(&render_country(self.knowledge.international(), short));
                if d.country.is_none() {
                    out.push_str("\n\n");
                    out.push_str(self.knowledge.replies().ask_country.trim());
                }
                out
            }
        }
    }

    pub(super) fn guidance_reply(&self, d: &mut Decision) {
        let Some(entry) = d.entries.first().and_then(|id| self.knowledge.entry(id)) else {
            d.reply = self.knowledge.replies().unknown.trim().to_string();
            return;
        };
        let mut reply = render_entry(entry);
        let related: Vec<&Entry> = entry
            .related
            .iter()
            .filter_map(|id| self.knowledge.entry(id))
            .filter(|e| {
                d.audience != Audience::YoungPerson
                    || e.audience == Audience::YoungPerson
                    || e.id == "reporting-services"
            })
            .take(MAX_RELATED)
            .collect();
        if !related.is_empty() {
            reply.push_str("\n\n");
            reply.push_str(&more_line(&related));
        }
        if d.audience == Audience::YoungPerson {
            reply.push_str("\n\n");
            reply.push_str(self.knowledge.replies().guidance_footer.trim());
        }
        d.state.last_topic = Some(entry.id.clone());
        d.reply = reply;
    }
}

fn render_entry(entry: &Entry) -> String {
    let sources: Vec<String> = entry
        .sources
        .iter()
        .map(|s| format!("[{}]({})", s.title, s.url))
        .collect();
    format!(
        "**{}**\n\n{}\n\n_Sources: {}._",
        entry.title,
        entry.answer.trim(),
        sources.join("; ")
    )
}

fn more_line(entries: &[&Entry]) -> String {
    let titles: Vec<String> = entries.iter().map(|e| format!("_{}_", e.title)).collect();
    format!("You can also ask me about: {}.", titles.join(" · "))
}

/// A country's services as a Markdown list, verified ones first, then the emergency number.
pub fn render_country(country: &Country, short: bool) -> String {
    let mut out = if country.code == "international" {
        "**Help you can reach from anywhere**\n".to_string()
    } else {
        format!("**Help in {}**\n", country.name)
    };
    let limit = if short { 3 } else { usize::MAX };
    for service in country.services.iter().take(limit) {
        let mut line = format!("- **{}**", service.name);
        let mut ways = Vec::new();
        if let Some(phone) = &service.phone {
            ways.push(format!("call **{phone}**"));
        }
        if let Some(sms) = &service.sms {
            if sms.to_lowercase().starts_with("text") {
                ways.push(sms.clone());
            } else {
                ways.push(format!("text: {sms}"));
            }
        }
        if let Some(chat) = &service.chat {
            ways.push(format!("chat: {chat}"));
        }
        if let Some(url) = &service.url {
            ways.push(url.clone());
        }
        if !ways.is_empty() {
            line.push_str(": ");
            line.push_str(&ways.join(" · "));
        }
        let mut notes = Vec::new();
        if let Some(hours) = &service.hours {
            notes.push(hours.clone());
        }
        if let Some(ages) = &service.ages {
            notes.push(format!("ages: {ages}"));
        }
        if !notes.is_empty() && !short {
            line.push_str(&format!(" ({})", notes.join("; ")));
        }
        if let Some(about) = &service.about
            && !short
        {
            line.push_str(&format!(". {about}"));
        }
        if service.confidence == Confidence::Low {
            line.push_str(" _(not verified, check before relying on it)_");
        }
        out.push_str(&line);
        out.push('\n');
    }
    if !country.emergency.is_empty() {
        out.push_str(&format!(
            "\nIf you are in danger right now, call **{}** (emergency services).",
            country.emergency.join("** or **")
        ));
    } else if country.code == "international" {
        out.push_str(
            "\nIf you are in danger right now, call your local emergency number: for example **112** in the \
             European Union, **999** in the UK, **911** in the US and Canada, **000** in Australia.",
        );
    } else {
        out.push_str("\nIf you are in danger right now, call your local emergency number or go to a safe adult near you.");
    }
    if let Some(note) = &country.note
        && !short
    {
        out.push_str(&format!("\n\n{}", note.trim()));
    }
    out.trim_end().to_string()
}
