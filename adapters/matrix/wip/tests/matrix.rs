//! The Matrix adapter against a real Synapse, with real end-to-end encrypted clients
//! (`tests/matrix/e2e.py`, matrix-nio). `./scripts/test` starts Synapse in a virtual environment,
//! sets `WAYMARK_MATRIX_E2E_PYTHON` and the `MATRIX_*` variables, and stops Synapse afterwards.
//! Without them (a plain `cargo test`) the test says so and is skipped.

#[cfg(feature = "matrix")]
#[test]
fn matrix_adapter_against_a_real_synapse() {
    let (Ok(python), Ok(_)) = (
        std::env::var("WAYMARK_MATRIX_E2E_PYTHON"),
        std::env::var("MATRIX_HOMESERVER"),
    ) else {
        eprintln!(
            "SKIPPED matrix_adapter_against_a_real_synapse: it needs a running Synapse and a Python \
             with matrix-nio[e2e] (WAYMARK_MATRIX_E2E_PYTHON and MATRIX_* are unset). \
             Run ./scripts/test, which installs and starts them and stops them afterwards."
        );
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/matrix/e2e.py");
    let status = std::process::Command::new(python)
        .arg(script)
        .env("WAYMARK_BIN", env!("CARGO_BIN_EXE_waymark"))
        .status()
        .expect("run tests/matrix/e2e.py");
    assert!(
        status.success(),
        "the Matrix end-to-end tests failed (output above)"
    );
}
