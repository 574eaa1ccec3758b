//! The storage contract on SQLite (one file per test), and SQLite's own bad inputs.

mod common;

use common::Fixture;
use dlkit_tune::storage;

fn fixture(test: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    // A folder that does not exist yet: `open` creates it.
    let path = dir.path().join("studies").join(format!("{test}.db"));
    Fixture {
        url: format!("sqlite:{}", path.display()),
        study: common::unique_name(test),
        _dir: Some(dir),
    }
}

storage_contract!(fixture);

#[test]
fn plain_paths_and_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.db");
    let s = storage::open(path.to_str().unwrap()).unwrap();
    assert_eq!(s.url(), path.display().to_string());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("SELECT version FROM dlkit_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
}

#[test]
fn a_folder_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = storage::open(&format!("sqlite:{}", dir.path().display()))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot open SQLite storage {}: it is a folder, expected a database file",
            dir.path().display()
        )
    );
}

#[test]
fn another_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let text = "not a database, but long enough to look like a header to SQLite: 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 0123456789\n".repeat(8);
    std::fs::write(&path, &text).unwrap();
    let err = storage::open(path.to_str().unwrap()).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot open SQLite storage {}: file is not a database",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no journal or WAL file left behind");
}

#[test]
fn a_folder_that_cannot_be_made() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let path = file.join("sub").join("tune.db");
    let err = storage::open(path.to_str().unwrap()).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot open SQLite storage {}: cannot create its folder {}: Not a directory (os error 20)",
            path.display(),
            file.join("sub").display()
        )
    );
}

#[test]
fn unsupported_urls() {
    let err = storage::open("mysql://root:pw@localhost/tune")
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "storage \"mysql://root@localhost/tune\" is not supported: expected a file path, \
         `sqlite:PATH` or `postgresql://USER@HOST:PORT/DATABASE`"
    );
}

#[test]
fn tables_of_another_schema_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tune.db");
    drop(storage::open(path.to_str().unwrap()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE dlkit_schema SET version = 2", [])
        .unwrap();
    let err = storage::open(path.to_str().unwrap()).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "storage {} has schema version 2, this dlkit reads version 1",
            path.display()
        )
    );
}
