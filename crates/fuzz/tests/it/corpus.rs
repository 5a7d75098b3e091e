//! The committed seed corpus is what `kui_fuzz::seeds::corpus` builds; `UPDATE_EXPECT=1`
//! rewrites it (after the seed log's format changed, say).

use kui_fuzz::seeds::{corpus, TARGETS};

use crate::helpers::corpus_dir;

#[test]
fn the_seed_corpus_is_current() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    for target in TARGETS {
        let dir = corpus_dir(target);
        for (name, bytes) in corpus(target) {
            let path = dir.join(format!("seed-{name}"));
            if update {
                std::fs::create_dir_all(&dir).expect("creating the corpus directory");
                std::fs::write(&path, &bytes).expect("writing a seed");
            } else {
                let committed = std::fs::read(&path)
                    .unwrap_or_else(|error| panic!("{}: {error} (UPDATE_EXPECT=1 writes it)", path.display()));
                assert!(
                    committed == bytes,
                    "{} is not what the seeds build (UPDATE_EXPECT=1 rewrites it)",
                    path.display()
                );
            }
        }
    }
}
