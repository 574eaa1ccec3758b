//! The storage contract on PostgreSQL: a real server, whose URL `DLKIT_TEST_POSTGRES` gives
//! (`.ci/run` starts one; by hand, `scripts/postgres-test-server.sh start DIR`). Every test
//! uses its own study in the one database, so tests run in parallel and again without
//! cleaning up. Without the variable every test here fails: nothing is skipped.

mod common;

use common::Fixture;
use dlkit_tune::storage;

fn server() -> String {
    std::env::var("DLKIT_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "DLKIT_TEST_POSTGRES is not set: the PostgreSQL storage tests need a server. Start one with \
             `eval \"$(scripts/postgres-test-server.sh start /tmp/dlkit-pg)\"` (it prints the export line; \
             `.ci/run` does this), or point the variable at a database you may create tables in"
        )
    })
}

fn fixture(test: &str) -> Fixture {
    Fixture {
        url: server(),
        study: common::unique_name(test),
        _dir: None,
    }
}

storage_contract!(fixture);

#[test]
fn two_workers_on_one_study() {
    common::concurrent_workers(&fixture("two_workers"), 2);
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // Port 1 on the loopback: nothing listens there.
    let err = storage::open("postgresql://dlkit:secret@127.0.0.1:1/dlkit_test")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "cannot connect to PostgreSQL at postgresql://dlkit@127.0.0.1:1/dlkit_test: \
         error connecting to server: Connection refused (os error 111)"
    );
}

#[test]
fn a_missing_database_is_a_clear_error() {
    let url = server();
    let base = url.rsplit_once('/').unwrap().0;
    let err = storage::open(&format!("{base}/dlkit_no_such_database"))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot connect to PostgreSQL at {}: database \"dlkit_no_such_database\" does not exist",
            storage::redact_url(&format!("{base}/dlkit_no_such_database"))
        )
    );
}
