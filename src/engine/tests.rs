use super::*;

#[test]
fn commands_are_parsed() {
    assert_eq!(
        parse_command("!cases"),
        Some(Command::Moderator {
            name: "cases".into(),
            args: String::new()
        })
    );
    assert_eq!(
        parse_command("  !note C-12 called back  "),
        Some(Command::Moderator {
            name: "note".into(),
            args: "C-12 called back".into()
        })
    );
    assert_eq!(parse_command("!HUMAN"), Some(Command::Human));
    assert_eq!(parse_command("!forget"), Some(Command::Forget));
    assert_eq!(parse_command("!nonsense"), None);
    assert_eq!(parse_command("cases"), None);
}

#[test]
fn truncation_respects_char_boundaries() {
    let text = "é".repeat(10);
    assert_eq!(truncate(&text, 5), "éé");
    assert_eq!(truncate("short", 100), "short");
}

#[test]
fn intents_round_trip() {
    for intent in Intent::ALL {
        assert_eq!(Intent::parse(intent.as_str()), Some(intent));
    }
}

#[test]
fn a_question_about_a_framework_is_not_a_helpline_request() {
    let text = "what does the unicef framework say about counselling helplines and other services children can get to";
    assert!(rules::FRAMEWORK.is_match(text));
    assert!(rules::SIGNPOST.is_match(text));
}
