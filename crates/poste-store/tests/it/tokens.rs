//! API tokens: stored by hash, one live token per name.

use poste_store::{Store, StoreError};

use crate::harness::{T0, staff};

const HASH_A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const HASH_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
const HASH_C: &str = "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13";

pub async fn token_lifecycle(store: Store) {
    let token = store
        .create_token("tableau", HASH_A, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(token.nom, "tableau");
    assert_eq!(token.created_at, T0);
    assert_eq!((token.last_used, token.revoked_at), (None, None));
    assert_eq!(
        store.token_by_hash(HASH_A).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(store.token_by_hash(HASH_B).await.unwrap(), None);

    store.touch_token(token.id, T0 + 10).await.unwrap();
    let touched = store.token_by_hash(HASH_A).await.unwrap().unwrap();
    assert_eq!(touched.last_used, Some(T0 + 10));
    assert!(matches!(
        store.touch_token(token.id + 1, T0).await,
        Err(StoreError::NotFound { .. })
    ));

    let revoked = store
        .revoke_token("tableau", &staff(), T0 + 20)
        .await
        .unwrap();
    assert_eq!(revoked.id, token.id);
    assert_eq!(revoked.revoked_at, Some(T0 + 20));
    assert_eq!(store.token_by_hash(HASH_A).await.unwrap(), None);
    assert_eq!(store.list_tokens().await.unwrap(), vec![revoked]);
    let result = store.revoke_token("tableau", &staff(), T0 + 30).await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    let result = store.revoke_token("inconnu", &staff(), T0 + 30).await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
}

pub async fn token_names_unique_among_live_tokens(store: Store) {
    let first = store
        .create_token("export", HASH_A, &staff(), T0)
        .await
        .unwrap();
    let result = store.create_token("export", HASH_B, &staff(), T0).await;
    assert!(
        matches!(&result, Err(StoreError::AlreadyExists { name, .. }) if name == "export"),
        "{result:?}"
    );
    // The refused one is not usable.
    assert_eq!(store.token_by_hash(HASH_B).await.unwrap(), None);

    store
        .revoke_token("export", &staff(), T0 + 1)
        .await
        .unwrap();
    let second = store
        .create_token("export", HASH_B, &staff(), T0 + 2)
        .await
        .unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(
        store.token_by_hash(HASH_B).await.unwrap(),
        Some(second.clone())
    );
    // A revoked token's hash stays taken.
    assert!(
        store
            .create_token("autre", HASH_A, &staff(), T0 + 3)
            .await
            .is_err()
    );
    let other = store
        .create_token("autre", HASH_C, &staff(), T0 + 3)
        .await
        .unwrap();
    let names: Vec<_> = store
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.nom, t.revoked_at.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("autre".to_owned(), false),
            ("export".to_owned(), true),
            ("export".to_owned(), false)
        ]
    );
    assert_eq!(other.nom, "autre");
}
