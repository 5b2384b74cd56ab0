use proptest::prelude::*;
use waymark_port::{CaseEvent, ConversationId, UserId};

use super::*;

fn new_case(user: &str, severity: &str) -> NewCase {
    NewCase {
        platform: "stdio".into(),
        conversation: "room-1".into(),
        user_ref: format!("ref-{user}"),
        contact: user.into(),
        category: "sextortion".into(),
        severity: severity.into(),
        excerpt: "the words".into(),
        country: Some("GB".into()),
    }
}

fn notice(text: &str) -> Notice {
    (
        "stdio".into(),
        Action::Send {
            conversation: ConversationId("moderators".into()),
            reply_to: None,
            thread: None,
            text: text.into(),
        },
        None,
    )
}

#[test]
fn a_case_and_its_notices_are_written_together() {
    let mut store = Store::in_memory().expect("store");
    let event = Action::Case(CaseEvent {
        event: "opened".into(),
        case: "{case}".into(),
        by: None,
        category: None,
        severity: None,
    });
    let case = store
        .open_case(
            &new_case("u1", "high"),
            &[notice("new case {case}"), (String::new(), event, None)],
            100,
        )
        .expect("open");
    assert!(case.id.starts_with("C-") && case.id.len() == 7);
    assert_eq!(case.status, Status::Open);
    let due = store.due_outbox(100, 10).expect("due");
    assert_eq!(due.len(), 2);
    assert!(
        matches!(&due[0].action, Action::Send { text, .. } if text == &format!("new case {}", case.id))
    );
    assert!(matches!(&due[1].action, Action::Case(e) if e.case == case.id));
    store.mark_delivered(due[0].id, 101).expect("mark");
    assert_eq!(store.pending_outbox().expect("pending"), 1);
}

#[test]
fn failed_deliveries_back_off() {
    let mut store = Store::in_memory().expect("store");
    store.enqueue(&[notice("x")], 0).expect("enqueue");
    let item = store.due_outbox(0, 1).expect("due").remove(0);
    store.mark_failed(item.id, 0, "down").expect("fail");
    assert!(
        store.due_outbox(0, 1).expect("due").is_empty(),
        "not due again at once"
    );
    assert_eq!(store.due_outbox(2, 1).expect("due").len(), 1);
    store.mark_failed(item.id, 2, "down").expect("fail");
    assert!(store.due_outbox(5, 1).expect("due").is_empty());
    assert_eq!(store.due_outbox(6, 1).expect("due")[0].attempts, 2);
}

#[test]
fn cases_are_listed_by_severity_then_age() {
    let mut store = Store::in_memory().expect("store");
    let a = store
        .open_case(&new_case("a", "medium"), &[], 1)
        .expect("a");
    let b = store.open_case(&new_case("b", "high"), &[], 2).expect("b");
    let c = store.open_case(&new_case("c", "high"), &[], 3).expect("c");
    let ids: Vec<String> = store
        .active_cases()
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, vec![b.id, c.id, a.id]);
}

#[test]
fn the_state_machine_refuses_invalid_moves() {
    let mut store = Store::in_memory().expect("store");
    let case = store
        .open_case(&new_case("u", "high"), &[], 0)
        .expect("open");
    assert!(matches!(
        store.apply(&case.id, CaseAction::Reopen, "m1", 1, &[]),
        Err(StoreError::Invalid { .. })
    ));
    let claimed = store
        .apply(&case.id, CaseAction::Claim, "m1", 1, &[])
        .expect("claim");
    assert_eq!(
        (claimed.status, claimed.assignee.as_deref()),
        (Status::Claimed, Some("m1"))
    );
    let taken = store
        .apply(&case.id.to_lowercase(), CaseAction::Claim, "m2", 2, &[])
        .expect("take over");
    assert_eq!(taken.assignee.as_deref(), Some("m2"));
    store
        .apply(&case.id, CaseAction::Note("called".into()), "m2", 3, &[])
        .expect("note");
    let resolved = store
        .apply(
            &case.id,
            CaseAction::Resolve(Some("done".into())),
            "m2",
            4,
            &[],
        )
        .expect("resolve");
    assert_eq!(resolved.status, Status::Resolved);
    assert!(matches!(
        store.apply(&case.id, CaseAction::Relay, "m2", 5, &[]),
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        store.apply("C-NOPE1", CaseAction::Claim, "m2", 5, &[]),
        Err(StoreError::NoCase(_))
    ));
    let history: Vec<String> = store
        .audit_log(Some(&case.id))
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        history,
        ["opened", "claimed", "claimed", "noted", "resolved"]
    );
    assert_eq!(store.notes(&case.id).expect("notes").len(), 2);
}

#[test]
fn timers_realert_remind_and_purge() {
    let mut store = Store::in_memory().expect("store");
    let high = store
        .open_case(&new_case("h", "high"), &[], 0)
        .expect("high");
    let medium = store
        .open_case(&new_case("m", "medium"), &[], 0)
        .expect("medium");
    assert!(
        store
            .realert_due(599, 600, 3600, |_| vec![])
            .expect("realert")
            .is_empty()
    );
    let due = store
        .realert_due(600, 600, 3600, |c| vec![notice(&c.id)])
        .expect("realert");
    assert_eq!(
        due.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![high.id.clone()]
    );
    assert!(
        store
            .realert_due(700, 600, 3600, |_| vec![])
            .expect("again")
            .is_empty(),
        "not twice in a row"
    );
    assert_eq!(
        store
            .realert_due(3600, 600, 3600, |_| vec![])
            .expect("both")
            .len(),
        2
    );
    assert_eq!(
        store
            .remind_due(900, 900, |_| vec![])
            .expect("remind")
            .len(),
        1
    );
    assert!(
        store
            .remind_due(2000, 900, |_| vec![])
            .expect("once")
            .is_empty()
    );
    store
        .apply(
            &medium.id,
            CaseAction::Resolve(Some("note".into())),
            "m",
            10,
            &[],
        )
        .expect("resolve");
    assert!(
        store
            .purge_due(10 + 29 * 86400, 30 * 86400, |_| vec![])
            .expect("early")
            .is_empty()
    );
    let purged = store
        .purge_due(10 + 30 * 86400, 30 * 86400, |_| vec![])
        .expect("purge");
    assert_eq!(purged.len(), 1);
    let after = store.case(&medium.id).expect("get").expect("exists");
    assert!(after.purged && after.excerpt.is_none() && after.contact.is_none());
    assert!(store.notes(&medium.id).expect("notes").is_empty());
}

#[test]
fn forgetting_keeps_only_what_open_cases_need() {
    let mut store = Store::in_memory().expect("store");
    let open = store
        .open_case(&new_case("u", "high"), &[], 0)
        .expect("open");
    let old = store
        .open_case(&new_case("u", "high"), &[], 0)
        .expect("old");
    store
        .apply(&old.id, CaseAction::Resolve(None), "m", 1, &[])
        .expect("resolve");
    let kept = store.forget_user("ref-u", 2).expect("forget");
    assert_eq!(kept, 1);
    assert!(
        store
            .case(&open.id)
            .expect("get")
            .expect("open")
            .excerpt
            .is_some()
    );
    assert!(
        store
            .case(&old.id)
            .expect("get")
            .expect("old")
            .excerpt
            .is_none()
    );
    let _ = UserId("unused".into());
}

#[derive(Debug, Clone)]
enum Op {
    Open(bool),
    Claim(usize, u8),
    Note(usize),
    Relay(usize),
    Resolve(usize),
    Reopen(usize),
    Tick(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<bool>().prop_map(Op::Open),
        (0..6usize, 0..3u8).prop_map(|(c, m)| Op::Claim(c, m)),
        (0..6usize).prop_map(Op::Note),
        (0..6usize).prop_map(Op::Relay),
        (0..6usize).prop_map(Op::Resolve),
        (0..6usize).prop_map(Op::Reopen),
        (0..100_000u32).prop_map(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any sequence of commands keeps every case in a valid state.
    #[test]
    fn every_case_stays_valid(ops in proptest::collection::vec(op(), 1..60)) {
        let mut store = Store::in_memory().expect("store");
        let mut ids: Vec<String> = Vec::new();
        let mut now = 0i64;
        for op in ops {
            now += 1;
            let pick = |i: usize| ids.get(i % ids.len().max(1)).cloned().unwrap_or_else(|| "C-NONE2".into());
            let _ = match op {
                Op::Open(high) => store
                    .open_case(&new_case("u", if high { "high" } else { "medium" }), &[], now)
                    .map(|c| ids.push(c.id)),
                Op::Claim(i, m) => store.apply(&pick(i), CaseAction::Claim, &format!("m{m}"), now, &[]).map(drop),
                Op::Note(i) => store.apply(&pick(i), CaseAction::Note("n".into()), "m", now, &[]).map(drop),
                Op::Relay(i) => store.apply(&pick(i), CaseAction::Relay, "m", now, &[]).map(drop),
                Op::Resolve(i) => store.apply(&pick(i), CaseAction::Resolve(None), "m", now, &[]).map(drop),
                Op::Reopen(i) => store.apply(&pick(i), CaseAction::Reopen, "m", now, &[]).map(drop),
                Op::Tick(secs) => {
                    now += i64::from(secs);
                    store.realert_due(now, 600, 3600, |_| vec![]).map(drop)?;
                    store.remind_due(now, 900, |_| vec![]).map(drop)?;
                    store.purge_due(now, 30 * 86400, |_| vec![]).map(drop)
                }
            };
            for case in store.all_cases().expect("list") {
                match case.status {
                    Status::Open => prop_assert!(case.assignee.is_none() && case.resolved_at.is_none()),
                    Status::Claimed => prop_assert!(case.assignee.is_some() && case.resolved_at.is_none()),
                    Status::Resolved => prop_assert!(case.resolved_at.is_some()),
                }
                if case.purged {
                    prop_assert!(case.status == Status::Resolved && case.excerpt.is_none() && case.contact.is_none());
                }
                let history = store.audit_log(Some(&case.id)).expect("audit");
                prop_assert_eq!(history.first().map(|a| a.action.as_str()), Some("opened"));
            }
        }
    }
}
