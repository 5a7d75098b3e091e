use kui_domain::{Cpr, YouthId};
use kui_keys::{KeyError, KeyState, KeyStore, MasterKey};
use uuid::Uuid;

fn cpr(text: &str) -> Cpr {
    Cpr::parse(text).unwrap()
}

fn id(n: u128) -> YouthId {
    YouthId(Uuid::from_u128(n))
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, MasterKey) {
    let dir = tempfile::tempdir().unwrap();
    let path = KeyStore::path_in(dir.path());
    let master = MasterKey::generate().unwrap();
    (dir, path, master)
}

#[test]
fn a_registered_person_is_found_again_after_reopening() {
    let (_dir, path, master) = setup();
    let store = KeyStore::create(&path, &master).unwrap();
    let (first, new) = store.register(&cpr("010203-1234"), || id(1)).unwrap();
    assert!(new);
    let (again, new) = store.register(&cpr("010203-1234"), || id(2)).unwrap();
    assert_eq!((again, new), (first, false));
    let key = store.key(first).unwrap();
    let pseudonym = store.youth_pseudonym(first).unwrap();
    drop(store);
    let (store, opened) = KeyStore::open(&path, &master).unwrap();
    assert_eq!(opened.cut, None);
    assert_eq!(store.lookup(&cpr("010203-1234")), Some(first));
    assert_eq!(store.key(first).unwrap(), key);
    assert_eq!(store.youth_pseudonym(first), Some(pseudonym));
    assert_eq!(store.lookup(&cpr("010203-1235")), None);
}

#[test]
fn the_same_cpr_number_in_two_stores_gets_unrelated_ids_and_keys() {
    let (_a, path_a, master) = setup();
    let (_b, path_b, _) = setup();
    let a = KeyStore::create(&path_a, &master).unwrap();
    let b = KeyStore::create(&path_b, &master).unwrap();
    let (id_a, _) = a.register(&cpr("010203-1234"), || YouthId(Uuid::now_v7())).unwrap();
    let (id_b, _) = b.register(&cpr("010203-1234"), || YouthId(Uuid::now_v7())).unwrap();
    assert_ne!(id_a, id_b);
    assert_ne!(a.key(id_a).unwrap(), b.key(id_b).unwrap());
}

#[test]
fn a_wrong_master_key_and_a_missing_store_are_named() {
    let (_dir, path, master) = setup();
    assert!(matches!(
        KeyStore::open(&path, &master),
        Err(KeyError::KeyStoreMissing { .. })
    ));
    KeyStore::create(&path, &master).unwrap();
    let other = MasterKey::generate().unwrap();
    assert!(matches!(
        KeyStore::open(&path, &other),
        Err(KeyError::WrongMasterKey { .. })
    ));
    assert!(
        KeyStore::create(&path, &master).is_err(),
        "an existing store is never replaced"
    );
}

#[test]
fn every_flipped_byte_is_reported_or_refused_never_read_as_another_key() {
    let (_dir, path, master) = setup();
    let store = KeyStore::create(&path, &master).unwrap();
    for n in 1..=3 {
        store.register(&cpr(&format!("01020{n}-1234")), || id(n)).unwrap();
    }
    drop(store);
    let clean = std::fs::read(&path).unwrap();
    for at in 0..clean.len() {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match KeyStore::open(&path, &master) {
            Err(KeyError::Damaged { .. } | KeyError::WrongMasterKey { .. }) => {}
            Ok((store, opened)) => {
                // Only a length field of the last record can make it look cut short, and
                // then its bytes are kept beside the file and reported.
                let (offset, aside) = opened.cut.unwrap_or_else(|| panic!("byte {at} flipped unnoticed"));
                assert!(aside.exists());
                assert!(offset as usize <= at);
                assert!(store.key(id(3)).is_err());
                std::fs::remove_file(aside).unwrap();
            }
            Err(other) => panic!("byte {at}: {other}"),
        }
    }
}

#[test]
fn a_record_cut_short_is_cut_and_kept_aside() {
    let (_dir, path, master) = setup();
    let store = KeyStore::create(&path, &master).unwrap();
    store.register(&cpr("010203-1234"), || id(1)).unwrap();
    store.register(&cpr("010203-1235"), || id(2)).unwrap();
    drop(store);
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 10).unwrap();
    let (store, opened) = KeyStore::open(&path, &master).unwrap();
    assert!(opened.cut.is_some());
    assert!(store.key(id(1)).is_ok());
    assert!(store.key(id(2)).is_err());
}

#[test]
fn erasure_removes_key_and_lookup_from_the_file() {
    let (_dir, path, master) = setup();
    let store = KeyStore::create(&path, &master).unwrap();
    store.register(&cpr("010203-1234"), || id(1)).unwrap();
    store.register(&cpr("010203-1235"), || id(2)).unwrap();
    let key = store.key(id(1)).unwrap();
    store.begin_erasure(id(1)).unwrap();
    assert_eq!(store.state_of(id(1)), KeyState::Erasing);
    let written = store.complete_erasure(id(1)).unwrap();
    assert!(written > 0);
    assert_eq!(store.state_of(id(1)), KeyState::Erased);
    assert!(matches!(store.key(id(1)), Err(KeyError::Erased { .. })));
    assert_eq!(store.lookup(&cpr("010203-1234")), None);
    assert_eq!(
        store.complete_erasure(id(1)).unwrap(),
        0,
        "completing twice writes nothing"
    );
    assert!(matches!(store.begin_erasure(id(1)), Err(KeyError::Erased { .. })));
    assert!(matches!(store.begin_erasure(id(9)), Err(KeyError::Unknown { .. })));
    // A new referral after erasure is a new person.
    let (fresh, new) = store.register(&cpr("010203-1234"), || id(3)).unwrap();
    assert_eq!((fresh, new), (id(3), true));
    drop(store);
    let (store, opened) = KeyStore::open(&path, &master).unwrap();
    assert!(opened.pending.is_empty());
    assert_eq!(store.state_of(id(1)), KeyState::Erased);
    assert!(store.key(id(2)).is_ok());
    assert_ne!(store.key(id(3)).unwrap(), key);
}

#[test]
fn a_begun_erasure_survives_reopening_as_pending_and_can_be_abandoned() {
    let (_dir, path, master) = setup();
    let store = KeyStore::create(&path, &master).unwrap();
    store.register(&cpr("010203-1234"), || id(1)).unwrap();
    store.begin_erasure(id(1)).unwrap();
    drop(store);
    let (store, opened) = KeyStore::open(&path, &master).unwrap();
    assert_eq!(opened.pending, vec![id(1)]);
    store.abandon_erasure(id(1)).unwrap();
    drop(store);
    let (store, opened) = KeyStore::open(&path, &master).unwrap();
    assert!(opened.pending.is_empty());
    assert_eq!(store.state_of(id(1)), KeyState::Present);
}

#[test]
fn concurrent_registrations_are_all_durable() {
    let (_dir, path, master) = setup();
    let store = std::sync::Arc::new(KeyStore::create(&path, &master).unwrap());
    let threads: Vec<_> = (0..8u128)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for n in 0..25u128 {
                    let number = t * 25 + n;
                    let text = format!("0102{:02}-{:04}", number % 60, 1000 + number);
                    store.register(&cpr(&text), || id(1000 + number)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    drop(store);
    let (store, _) = KeyStore::open(&path, &master).unwrap();
    assert_eq!(store.people(), 200);
}

#[test]
fn seeded_stores_repeat_their_keys() {
    let a = KeyStore::seeded(7);
    let b = KeyStore::seeded(7);
    a.register(&cpr("010203-1234"), || id(1)).unwrap();
    b.register(&cpr("010203-1234"), || id(1)).unwrap();
    assert_eq!(a.key(id(1)).unwrap(), b.key(id(1)).unwrap());
    assert_ne!(KeyStore::seeded(8).pseudonym(b"x"), a.pseudonym(b"x"));
}
