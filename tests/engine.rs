//! The engine through the library: required content, decisions on unseen phrasings, and a property
//! test that no input makes it panic or hang.

use std::sync::LazyLock;

use proptest::prelude::*;
use waymark::knowledge::{Audience, RiskCategory};
use waymark::{ConversationState, Engine, EngineOptions, Intent, Knowledge};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let knowledge = Knowledge::bundled().expect("bundled knowledge loads");
    Engine::new(knowledge, EngineOptions::default()).expect("engine builds")
});

fn decide(text: &str) -> waymark::Decision {
    ENGINE.decide(text, &ConversationState::default())
}

#[test]
fn every_required_entry_exists_with_its_audience() {
    let k = ENGINE.knowledge();
    let yp = [
        "yp-sextortion",
        "yp-nudes-shared",
        "yp-pressure-to-send",
        "yp-grooming-signs",
        "yp-meeting-online-friend",
        "yp-block-report",
        "yp-cyberbullying",
        "yp-unwanted-content",
        "yp-telling-someone",
        "yp-privacy-settings",
        "yp-abuse-offline",
        "yp-worried-friend",
        "yp-age-and-law",
        "yp-not-your-fault",
        "yp-feeling-unsafe",
        "yp-ai-fakes",
    ];
    let pr = [
        "pr-responding-to-disclosure",
        "pr-recognising-signs",
        "pr-online-grooming-signs",
        "pr-found-abuse-material",
        "pr-supporting-sextortion",
        "pr-six-strategies",
        "pr-strategy-1",
        "pr-strategy-2",
        "pr-strategy-3",
        "pr-strategy-4",
        "pr-strategy-5",
        "pr-strategy-6",
        "pr-inspire",
        "pr-itu-cop-guidelines",
        "pr-industry-guidelines",
        "pr-multi-stakeholder",
        "pr-weprotect-mnr",
        "pr-terminology",
        "pr-balance-access-and-risk",
        "pr-integrated-protection",
        "pr-safeguarding-policy",
    ];
    for id in yp {
        assert_eq!(
            k.entry(id).map(|e| e.audience),
            Some(Audience::YoungPerson),
            "{id}"
        );
    }
    for id in pr {
        assert_eq!(
            k.entry(id).map(|e| e.audience),
            Some(Audience::Practitioner),
            "{id}"
        );
    }
    for id in ["mod-handling-cases", "mod-commands"] {
        assert_eq!(
            k.entry(id).map(|e| e.audience),
            Some(Audience::Moderator),
            "{id}"
        );
    }
    assert!(k.entry("reporting-services").is_some());
    assert!(
        k.countries().len() >= 30,
        "at least 30 countries, found {}",
        k.countries().len()
    );
    for category in RiskCategory::ALL {
        assert!(k.safety_category(category).is_some(), "{category:?}");
    }
}

/// Issue 3's minimums for the content: every entry's questions, keywords, sources, review date
/// and related entries; 20 examples and 20 traps per category; the reporting services and the
/// platforms named; the review guide.
#[test]
fn the_knowledge_meets_its_minimums() {
    let k = ENGINE.knowledge();
    for e in k.entries() {
        assert!(
            e.questions.len() >= 6,
            "{}: {} questions",
            e.id,
            e.questions.len()
        );
        assert!(!e.keywords.is_empty(), "{}: no keywords", e.id);
        assert!(!e.related.is_empty(), "{}: no related entries", e.id);
        assert!(!e.reviewed.is_empty(), "{}: no review date", e.id);
        assert!(
            !e.sources.is_empty() && e.sources.iter().all(|s| s.url.starts_with("http")),
            "{}: sources need URLs",
            e.id
        );
    }
    for c in k.safety() {
        assert!(
            c.examples.len() >= 20,
            "{:?}: {} examples",
            c.category,
            c.examples.len()
        );
        assert!(c.not.len() >= 20, "{:?}: {} traps", c.category, c.not.len());
    }
    // Every country has its emergency number, except where the sourced facts have none (a number
    // is never invented): reference/facts.yaml gives none for these six.
    for c in k.countries() {
        assert!(
            !c.emergency.is_empty()
                || ["UA", "JP", "SG", "NO", "LI", "PK"].contains(&c.code.as_str()),
            "{}: no emergency number",
            c.code
        );
    }
    let reporting = &k
        .entry("reporting-services")
        .expect("reporting-services")
        .answer;
    for service in [
        "CyberTipline",
        "Take It Down",
        "IWF",
        "Report Remove",
        "CEOP",
        "INHOPE",
        "Cybertip.ca",
        "NeedHelpNow",
        "eSafety",
        "StopNCII",
        "under 18",
        "18+",
    ] {
        assert!(
            reporting.contains(service),
            "reporting-services lacks {service}"
        );
    }
    let platforms = &k.entry("yp-block-report").expect("yp-block-report").answer;
    for platform in [
        "Discord",
        "Instagram",
        "Snapchat",
        "TikTok",
        "WhatsApp",
        "Roblox",
        "Element",
    ] {
        assert!(
            platforms.contains(platform),
            "yp-block-report lacks {platform}"
        );
    }
    let guide = std::fs::read_to_string("knowledge/README.md").expect("knowledge/README.md");
    for section in ["## How to add a country", "## How to review an entry"] {
        assert!(
            guide.contains(section),
            "knowledge/README.md lacks {section}"
        );
    }
}

#[test]
fn talking_about_a_topic_is_not_a_disclosure() {
    for text in [
        "what is grooming?",
        "this homework is killing me",
        "Teacher here - planning a lesson on sextortion for year 9, what should I cover?",
        "my cat needs grooming before the show",
    ] {
        let d = decide(text);
        assert_eq!(d.risk, None, "{text}: {:?}", d.why);
        assert!(!d.escalate, "{text}");
    }
}

#[test]
fn a_question_and_a_disclosure_at_once_is_risk_with_guidance() {
    let d = decide("they keep threatening to leak my nudes unless i pay, what do i do?");
    assert_eq!(d.intent, Intent::Risk);
    assert_eq!(d.risk.map(|r| r.category), Some(RiskCategory::Sextortion));
    assert!(d.escalate);
    assert_eq!(d.entries.first().map(String::as_str), Some("yp-sextortion"));
    assert!(d.reply.contains("moderator"), "says a moderator was told");
}

#[test]
fn unknown_country_asks_for_it_and_gives_international_services() {
    let d = decide("is there a helpline i can call");
    assert_eq!(d.intent, Intent::Signposting);
    assert_eq!(d.country, None);
    assert!(
        d.reply.contains("childhelplineinternational.org"),
        "{}",
        d.reply
    );
    assert!(d.state.awaiting_country);
    let next = ENGINE.decide("deutschland", &d.state);
    assert_eq!(next.intent, Intent::Signposting);
    assert_eq!(next.country.as_deref(), Some("DE"));
    assert!(next.reply.contains("116 111"));
}

#[test]
fn a_service_only_one_country_has_places_the_writer() {
    for (text, code) in [
        ("kindertelefoon nummer?", "NL"),
        ("number for bantay bata?", "PH"),
        ("wie erreiche ich die nummer gegen kummer", "DE"),
    ] {
        let d = decide(text);
        assert_eq!(d.country.as_deref(), Some(code), "{text}");
        assert_eq!(d.intent, Intent::Signposting, "{text}");
    }
    // A country the writer names wins over the service.
    let d = decide("im in the uk, is kindertelefoon for me?");
    assert_eq!(d.country.as_deref(), Some("GB"));
    // Asking about another country's service does not move a writer whose country is known.
    let first = decide("im in ireland");
    let next = ENGINE.decide("what is bantay bata", &first.state);
    assert_eq!(next.country.as_deref(), Some("IE"));
    // Words that are only part of a name place no one.
    assert_eq!(decide("my friend telefono me").country, None);
}

#[test]
fn countries_are_found_by_name_demonym_and_native_name() {
    for (text, code) in [
        ("helpline in españa", "ES"),
        ("im in the uk who do i call", "GB"),
        ("any kiwi helplines", "NZ"),
        ("i live in deutschland, who can i talk to", "DE"),
        ("helpline in the US", "US"),
    ] {
        assert_eq!(decide(text).country.as_deref(), Some(code), "{text}");
    }
    // "us" the word is not the United States.
    assert_eq!(decide("can you help us").country, None);
    // An ambiguous name counts after a place and a comma, as people write where they are.
    assert_eq!(
        decide("Hi, I am 14 from Chennai, India. someone keeps asking for my pics")
            .country
            .as_deref(),
        Some("IN")
    );
    assert_eq!(decide("my cousin india is so annoying").country, None);
    // "sa" is South Africa only beside a helpline word: it is also "sexual assault", and "in sa"
    // may be South Australia.
    assert_eq!(
        decide("sa childline number?").country.as_deref(),
        Some("ZA")
    );
    assert_eq!(decide("childline sa").country.as_deref(), Some("ZA"));
    assert_eq!(decide("sa happened to me at a party").country, None);
    assert_eq!(decide("i live in sa").country, None);
    assert_eq!(decide("im from cork").country.as_deref(), Some("IE"));
    // A place someone wants the child to go to is not where the child is: the helpline shown
    // stays the one they can call now.
    let home = decide("im in ireland");
    let trip = ENGINE.decide(
        "he said he wants me to fly to germany to meet him",
        &home.state,
    );
    assert_eq!(trip.country.as_deref(), Some("IE"));
    assert_eq!(decide("is there an sa helpline i can ring").country, None);
    assert_eq!(decide("the club got us new jerseys").country, None);
    // A people's word names a country only when used of oneself.
    assert_eq!(
        decide("im german, who can i call").country.as_deref(),
        Some("DE")
    );
    assert_eq!(
        decide("my german teacher gave us loads of homework").country,
        None
    );
    // Someone else's location never replaces the user's own country.
    let gb = ConversationState {
        country: Some("GB".into()),
        ..ConversationState::default()
    };
    let d = ENGINE.decide("a guy from india says hell post my pics unless i pay", &gb);
    assert_eq!(d.country.as_deref(), Some("GB"));
    assert!(d.reply.contains("0800 1111"), "the user's own helpline");
    let d = ENGINE.decide("im on holiday in france, who do i call", &gb);
    assert_eq!(d.country.as_deref(), Some("FR"));
    // The place the writer moved away from is not where they are.
    let d = ENGINE.decide(
        "we moved from the uk to australia last month, is childline still the number?",
        &gb,
    );
    assert_eq!(d.country.as_deref(), Some("AU"));
    assert!(d.reply.contains("1800 55 1800"), "{}", d.reply);
    assert_eq!(
        decide("we moved here from poland, who do i call").country,
        None
    );
    // A message that opens with where the writer is: the emergency number must be that country's.
    let d = ENGINE.decide(
        "at eaton centre toronto w the guy from insta and he keeps pulling me towards his car",
        &gb,
    );
    assert_eq!(d.country.as_deref(), Some("CA"));
    assert!(d.reply.contains("911"), "{}", d.reply);
    assert_eq!(
        decide("im brazilian who can i call").country.as_deref(),
        Some("BR")
    );
    assert_eq!(
        decide("he says he'll show them to my dad. i live in KL")
            .country
            .as_deref(),
        Some("MY")
    );
    assert_eq!(
        decide("kl is such a vibe").country,
        None,
        "not without a cue"
    );
    assert_eq!(
        decide("us child abuse hotline number?").country.as_deref(),
        Some("US")
    );
    assert_eq!(decide("can you help us with the quiz").country, None);
    for (text, code) in [
        (
            "one of our girls rang from a party at a flat in Birmingham",
            "GB",
        ),
        ("hello, I am girl from Gdańsk", "PL"),
        (
            "im actually in ireland not the uk. whats the number here",
            "IE",
        ),
    ] {
        assert_eq!(decide(text).country.as_deref(), Some(code), "{text}");
    }
}

#[test]
fn a_low_confidence_service_is_never_shown_as_verified() {
    let k = ENGINE.knowledge();
    for country in k.countries() {
        let shown = waymark::engine::render_country(country, false);
        for service in &country.services {
            if service.confidence == waymark::knowledge::Confidence::Low {
                let line = shown
                    .lines()
                    .find(|l| l.contains(&service.name))
                    .expect("listed");
                assert!(line.contains("not verified"), "{}: {line}", country.code);
            }
        }
        if let Some(first) = country.services.first() {
            assert_ne!(
                first.confidence,
                waymark::knowledge::Confidence::Low,
                "{} lists a low service first",
                country.code
            );
        }
    }
}

#[test]
fn moderators_command_and_human_handoff() {
    let d = ENGINE.decide(
        "!cases",
        &ConversationState {
            audience: Some(Audience::Moderator),
            ..Default::default()
        },
    );
    assert_eq!(d.intent, Intent::ModeratorCommand);
    assert!(!d.escalate);
    let d = decide("can i talk to a real person please");
    assert_eq!(d.intent, Intent::Human);
    assert!(d.escalate);
    for text in [
        "can i speak to someone who isnt a computer",
        "Is there a member of your team I can speak to? I'd prefer not to do it through a chatbot.",
        "pass me to a human pls its important",
        "Hello, I'd like to speak to one of your safeguarding staff directly please.",
    ] {
        assert_eq!(decide(text).intent, Intent::Human, "{text}");
    }
    let d = decide("What sort of questions can this tool answer for my team?");
    assert_eq!(d.intent, Intent::Help);
}

/// "Who can I talk to" is a helpline request; "who should I talk to if…" asks whom to trust,
/// which the guidance on telling someone answers.
#[test]
fn whom_to_tell_is_guidance_and_who_to_call_is_signposting() {
    let d =
        decide("who should i talk to if something feels off but im not sure its serious enough");
    assert_eq!(d.intent, Intent::Guidance);
    for text in [
        "who can i talk to",
        "who should i talk to if i need a helpline number",
        "what do kids call in switzerland if they need help",
        "who do i send the link to, its a video of a kid",
        "who do u report online child exploitation stuff to in australia",
        "my mate lives in canada, whats the kids line there so i can send it to her",
    ] {
        assert_eq!(decide(text).intent, Intent::Signposting, "{text}");
    }
    // A moderator asking how to handle a case is not asking for a helpline, whatever it mentions.
    let d = ENGINE.decide(
        "kid stopped replying after i sent the helpline info - do i leave the case open or close it?",
        &ConversationState {
            audience: Some(Audience::Moderator),
            ..Default::default()
        },
    );
    assert_eq!(d.intent, Intent::Guidance);
    assert_eq!(
        d.entries.first().map(String::as_str),
        Some("mod-handling-cases")
    );
}

#[test]
fn garbage_gets_a_polite_reply() {
    for text in [
        "",
        "   ",
        "🙂🙂🙂",
        "!!!???",
        "\u{0}\u{1}\u{2}",
        "asdfghjkl qwertyuiop",
    ] {
        let d = decide(text);
        assert!(!d.reply.is_empty(), "{text:?}");
        assert_eq!(d.risk, None);
    }
}

#[test]
fn a_megabyte_of_text_is_answered() {
    let big = "help me ".repeat(128 * 1024);
    let d = decide(&big);
    assert!(!d.reply.is_empty());
    let zero_width = "\u{200b}".repeat(1 << 20);
    assert!(!decide(&zero_width).reply.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_input_panics(text in "\\PC{0,400}") {
        let d = decide(&text);
        prop_assert!(!d.reply.is_empty());
    }

    #[test]
    fn no_input_with_controls_and_obfuscation_panics(text in "[ a-z0-9@$!*|\\u{200b}\\u{0430}-\\u{044f}\\u{ff41}-\\u{ff5a}\\x00-\\x1f.'’]{0,300}") {
        let d = decide(&text);
        prop_assert!(!d.reply.is_empty());
    }

    #[test]
    fn state_is_carried_without_panics(a in "\\PC{0,80}", b in "\\PC{0,80}") {
        let first = decide(&a);
        let second = ENGINE.decide(&b, &first.state);
        prop_assert!(!second.reply.is_empty());
    }
}

#[test]
fn a_disclosure_at_the_end_of_a_very_long_message_is_still_seen() {
    let filler = "we went to the park and played football and then had chips. ".repeat(600);
    assert!(filler.len() > waymark::engine::MAX_TEXT * 2);
    let d = decide(&format!(
        "{filler} my stepdad comes into my bed at night and touches me"
    ));
    assert_eq!(d.intent, Intent::Risk, "{:?}", d.why);
    assert!(d.escalate);
    let d = decide(&filler);
    assert_ne!(d.intent, Intent::Risk);
}

#[test]
fn courtesies_help_and_a_person_are_recognised() {
    use Intent::{Greeting, Help, Human, Signposting};
    for (text, intent) in [
        ("Good evening, I hope you are well.", Greeting),
        (
            "Thanks, I think I know what to do now. Goodnight.",
            Greeting,
        ),
        ("hiya how are you", Greeting),
        ("cheers for that, means a lot", Greeting),
        ("gtg mums calling, bye", Greeting),
        ("hola! first time i use this", Greeting),
        ("thanks, i will call them tomorrow", Greeting),
        ("thanks, ill try that", Greeting),
        ("ty, thats sorted it", Greeting),
        (
            "cheers, that was actually useful. did not expect that from a bot tbh",
            Greeting,
        ),
        (
            "Thank you so much, that's really reassuring. Goodnight.",
            Greeting,
        ),
        // Asking whether anyone is there is a hello, not a request for a person.
        ("hello? anyone there", Greeting),
        ("wat do i even use this for", Help),
        (
            "I'm a social worker trialling this for my team. What is it able to do?",
            Help,
        ),
        ("What I can ask you? Which topics you know?", Help),
        ("wat do u do? r u a robot", Help),
        (
            "Hi, I'm a foster carer - what kind of help can this bot give me?",
            Help,
        ),
        (
            "Hello, I'm a youth worker - is this bot just for the young people or can staff use it too?",
            Help,
        ),
        ("can i tawk to a reel person plz", Human),
        ("is a mod online? need to talk to someone asap", Human),
        (
            "can someone from ur team actually read this and reply",
            Human,
        ),
        (
            "Is there a member of your safeguarding team I can speak to directly about a case?",
            Human,
        ),
        ("pass me to one of ur staff pls", Human),
        ("can i speak to one of the leaders instead", Human),
        ("i dont want the bot i want to talk to someone", Human),
        (
            "I'd like to discuss a concern directly with one of your safeguarding staff rather than here.",
            Human,
        ),
        ("wats the chidline numbr", Signposting),
        ("nigeria child abuse reporting line?", Signposting),
        ("who do ppl even call about this kind of stuff", Signposting),
        (
            "is there somewhere in canada to report someone luring kids online",
            Signposting,
        ),
        (
            "we live in poland, my daughter needs someone to talk to who isnt me",
            Signposting,
        ),
        ("whats the childhelp number in america", Signposting),
        (
            "how do i report child abuse pics i found on a forum?",
            Signposting,
        ),
        ("who can kids in malaysia talk to", Signposting),
        (
            "indonesia - anywhere kids can report violence or get help?",
            Signposting,
        ),
        (
            "Hi, I'm a youth worker - what could this bot help me and my young people with?",
            Help,
        ),
        (
            "is there a real moderator on? id feel better talking to a human",
            Human,
        ),
        (
            "Hi, I'm a school nurse - what sort of things can this service help me with?",
            Help,
        ),
    ] {
        assert_eq!(decide(text).intent, intent, "{text}");
    }
    // "What can you actually do" asks for the menu only on its own.
    assert_ne!(
        decide("what can u actually do if a pic of u gets posted without u saying yes").intent,
        Help
    );
    // Words the menu, a person or the helpline list share with everyday questions.
    for (text, not) in [
        ("should i talk to the teachers about it", Human),
        ("what should i say to get him to stop messaging me", Help),
        ("how will it help me if i report him", Help),
        ("the online safety act, what does it cover", Help),
        (
            "is there a way to report a fake account on insta",
            Signposting,
        ),
    ] {
        assert_ne!(decide(text).intent, not, "{text}");
    }
    // A child naming their youth group is not a practitioner.
    assert_eq!(
        decide(
            "the leader at our youth group keeps messaging me late at night and says its our secret"
        )
        .audience,
        Audience::YoungPerson
    );
    // A courtesy does not hide a question.
    assert_ne!(
        decide("good evening, i hope you are well, how do i report a fake account").intent,
        Greeting
    );
    // A club coach writes as a practitioner.
    assert_eq!(
        decide("what do i say if a kid tells me somethings going on at home? i coach u12s")
            .audience,
        Audience::Practitioner
    );
    let d = decide("is there a mod online rn i need to tell someone smth");
    assert_eq!(d.intent, Human);
    assert!(d.escalate);
    // A question about a framework is guidance, even when it names helplines.
    let d = ENGINE.decide(
        "What does the UNICEF framework say about counselling, helplines and other services children can get to?",
        &ConversationState {
            audience: Some(Audience::Practitioner),
            ..ConversationState::default()
        },
    );
    assert_eq!(d.intent, Intent::Guidance);
    assert_eq!(d.entries.first().map(String::as_str), Some("pr-strategy-4"));
}

/// The nearest-example net catches a paraphrase of a labelled disclosure that no pattern knows,
/// and does not raise a harmless message that shares its words.
#[test]
fn the_nearest_example_net_catches_paraphrases_not_shared_words() {
    let text = "the lads in my year have a snapchat group where they score girls nudes out of 10 and mine got put in it";
    let d = decide(text);
    assert_eq!(d.risk.map(|r| r.category), Some(RiskCategory::ImageAbuse));
    assert!(
        d.why.iter().any(|w| w.contains("similar")),
        "found by the net: {:?}",
        d.why
    );
    let without = Engine::new(
        Knowledge::bundled().expect("bundled knowledge loads"),
        EngineOptions {
            similar_examples: false,
            ..EngineOptions::default()
        },
    )
    .expect("engine builds");
    let d = without.decide(text, &ConversationState::default());
    assert_eq!(d.risk, None, "no pattern knows this phrasing");
    let d = decide("been saving my nans old recipes in a box under my bed for weeks");
    assert_eq!(d.risk, None);
}

/// A message that is a labelled disclosure is that disclosure, even with the harmless look-alike
/// written to mirror it close by (which, alone, stays harmless).
#[test]
fn a_labelled_disclosure_outweighs_its_look_alike() {
    let disclosure = "my little brother (10) has been talking to someone in a vrchat world who told him to point his camera at his bed and asked if our parents are asleep";
    let d = decide(disclosure);
    assert_eq!(
        d.risk.map(|r| r.category),
        Some(RiskCategory::Grooming),
        "{:?}",
        d.why
    );
    let look_alike = "my little brother (10) has been talking to his classmate in a vrchat world who showed him how to point his camera at the sky and asked if our parents are coming to the school fair";
    assert_eq!(decide(look_alike).risk, None);
}

/// The index stems words and, when nothing matches exactly, forgives a misspelling.
#[test]
fn retrieval_stems_and_falls_back_to_fuzzy_matching() {
    let index = ENGINE.index();
    let terms = index.terms("texting texts");
    assert_eq!(terms.len(), 1, "one stem for both: {terms:?}");
    for (typed, entry) in [
        ("cyberbulying", "yp-cyberbullying"),
        ("privasy", "yp-privacy-settings"),
    ] {
        let hits = index.search(&index.terms(typed), &[], 3);
        let first = hits.first().expect("a hit");
        assert_eq!(first.id, entry, "{typed}");
        assert!(first.fuzzy, "found by the fuzzy fallback: {typed}");
    }
    let hits = index.search(&index.terms("cyberbullying"), &[], 3);
    assert!(
        hits.first().is_some_and(|h| !h.fuzzy),
        "an exact word needs no fallback"
    );
}
