//! Workstation enrollment: one-time codes, requests, staff approval, collecting the secret,
//! reset; and how existing workstations read back.

use poste_store::{
    Actor, Enrollment, EnrollmentProof, EnrollmentRefusal, EventKind, NewPoste, PosteRow,
    PosteSighting, Store, StoreError,
};

use crate::harness::{HOUR_MS, ORIGIN, T0, create_poste, staff};

// SHA-256 (hex) stand-ins: the store only compares them.
const CODE_A: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const CODE_B: &str = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
const REQ_A: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
const REQ_B: &str = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";
const REQ_C: &str = "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5";
const SECRET_A: &str = "f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6";
const SECRET_B: &str = "0707070707070707070707070707070707070707070707070707070707070707";

fn code(hash: &str) -> EnrollmentProof {
    EnrollmentProof::OneTimeCode(hash.to_owned())
}

fn sighting(nom: &str) -> PosteSighting {
    PosteSighting {
        nom: nom.to_owned(),
        ip: None,
        mac: None,
        version: None,
    }
}

/// The refusal carried by an `EnrollmentRefused`, or a panic naming what came instead.
fn refusal<T: std::fmt::Debug>(result: Result<T, StoreError>) -> EnrollmentRefusal {
    match result {
        Err(StoreError::EnrollmentRefused(refusal)) => refusal,
        other => panic!("expected EnrollmentRefused, got {other:?}"),
    }
}

fn assert_poste_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, nom: &str) {
    assert!(
        matches!(&result, Err(StoreError::NotFound { what: "poste", id }) if id == nom),
        "{result:?}"
    );
}

/// A code valid for an hour from `T0`, reserved for `nom` if given.
async fn create_code(
    store: &Store,
    hash: &str,
    nom: Option<&str>,
) -> poste_store::EnrollmentCodeRow {
    store
        .create_enrollment_code(hash, nom, None, T0 + HOUR_MS, &staff(), T0)
        .await
        .unwrap()
}

/// Takes `nom` through the whole enrollment (install token) with `REQ_A` and `SECRET_A`.
async fn enroll(store: &Store, nom: &str) -> PosteRow {
    store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting(nom), REQ_A, T0)
        .await
        .unwrap();
    store.approve_enrollment(nom, &staff(), T0).await.unwrap();
    store
        .complete_enrollment(nom, REQ_A, SECRET_A, T0)
        .await
        .unwrap()
}

pub async fn enrollment_happy_path(store: Store) {
    let created = create_code(&store, CODE_A, None).await;
    assert_eq!(created.poste_nom, None);
    assert_eq!(
        (created.created_at, created.expires_at, created.used_at),
        (T0, T0 + HOUR_MS, None)
    );
    assert!(store.pending_enrollments().await.unwrap().is_empty());

    let requested = store
        .request_enrollment(
            &code(CODE_A),
            &PosteSighting {
                nom: "Salle-1".to_owned(),
                ip: Some("10.0.0.21".to_owned()),
                mac: Some("aa:bb:cc:dd:ee:21".to_owned()),
                version: Some("2.0.0".to_owned()),
            },
            REQ_A,
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(requested.nom, "Salle-1");
    assert_eq!(requested.enrollment, Enrollment::EnAttente);
    assert_eq!(requested.secret_hash, None);
    assert_eq!(requested.ip.as_deref(), Some("10.0.0.21"));
    assert_eq!(requested.mac.as_deref(), Some("aa:bb:cc:dd:ee:21"));
    assert_eq!(requested.version.as_deref(), Some("2.0.0"));
    assert_eq!(
        (requested.created_at, requested.last_seen),
        (T0 + 1, Some(T0 + 1))
    );
    assert!(!requested.hors_service);
    assert_eq!(
        store.pending_enrollments().await.unwrap(),
        vec![requested.clone()]
    );
    assert_eq!(
        store.poste_by_name("salle-1").await.unwrap(),
        Some(requested.clone())
    );

    let approved = store
        .approve_enrollment("SALLE-1", &staff(), T0 + 2)
        .await
        .unwrap();
    assert_eq!(approved.id, requested.id);
    assert_eq!(approved.enrollment, Enrollment::Approuve);
    assert_eq!(approved.secret_hash, None);
    assert!(store.pending_enrollments().await.unwrap().is_empty());

    let enrolled = store
        .complete_enrollment("salle-1", REQ_A, SECRET_A, T0 + 3)
        .await
        .unwrap();
    assert_eq!(enrolled.id, requested.id);
    assert_eq!(enrolled.nom, "Salle-1");
    assert_eq!(enrolled.enrollment, Enrollment::Enrole);
    assert_eq!(enrolled.secret_hash.as_deref(), Some(SECRET_A));
    assert_eq!(enrolled.ip.as_deref(), Some("10.0.0.21"));
    // Every read returns the enrollment columns.
    assert_eq!(
        store.poste(enrolled.id).await.unwrap(),
        Some(enrolled.clone())
    );
    assert_eq!(
        store.poste_by_name("Salle-1").await.unwrap(),
        Some(enrolled.clone())
    );
    assert_eq!(
        store.poste_by_ip("10.0.0.21").await.unwrap(),
        Some(enrolled.clone())
    );
    assert_eq!(store.list_postes().await.unwrap(), vec![enrolled.clone()]);
    // A sighting keeps the enrollment.
    let seen = store
        .record_poste_seen(&sighting("Salle-1"), T0 + 4)
        .await
        .unwrap();
    assert_eq!(
        (seen.enrollment, seen.secret_hash.as_deref()),
        (Enrollment::Enrole, Some(SECRET_A))
    );

    // The request key is spent: collecting again is refused, and so is a new request.
    assert_eq!(
        refusal(
            store
                .complete_enrollment("Salle-1", REQ_A, SECRET_B, T0 + 5)
                .await
        ),
        EnrollmentRefusal::NotApproved
    );
    assert_eq!(
        refusal(
            store
                .request_enrollment(
                    &EnrollmentProof::SiteToken,
                    &sighting("Salle-1"),
                    REQ_B,
                    T0 + 5
                )
                .await
        ),
        EnrollmentRefusal::AlreadyEnrolled
    );
    assert_eq!(
        store
            .poste(enrolled.id)
            .await
            .unwrap()
            .unwrap()
            .secret_hash
            .as_deref(),
        Some(SECRET_A)
    );

    let events = store.events_after(0, 100).await.unwrap();
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.kind,
                e.poste_id,
                e.session_id,
                e.actor.as_str(),
                e.detail.as_deref(),
            )
        })
        .collect();
    let id = Some(enrolled.id);
    assert_eq!(
        summary,
        [
            (
                EventKind::EnrollmentCodeCreated,
                None,
                None,
                "animateur:marie",
                None
            ),
            (
                EventKind::EnrollmentRequested,
                id,
                None,
                "poste:Salle-1",
                Some("code_enrolement")
            ),
            (
                EventKind::EnrollmentApproved,
                id,
                None,
                "animateur:marie",
                Some("Salle-1")
            ),
            (
                EventKind::PosteEnrolled,
                id,
                None,
                "poste:Salle-1",
                Some("Salle-1")
            ),
        ]
    );
    let at: Vec<_> = events.iter().map(|e| e.at).collect();
    assert_eq!(at, [T0, T0 + 1, T0 + 2, T0 + 3]);
    assert!(events.iter().all(|e| e.origin == ORIGIN));
}

pub async fn enrollment_code_reserved_for_a_name_is_logged(store: Store) {
    let created = store
        .create_enrollment_code(CODE_A, Some("Accueil-2"), None, T0 + 5000, &Actor::Cli, T0)
        .await
        .unwrap();
    assert_eq!(created.poste_nom.as_deref(), Some("Accueil-2"));
    assert_eq!(created.expires_at, T0 + 5000);
    let events = store.events_after(0, 100).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::EnrollmentCodeCreated);
    assert_eq!(events[0].actor, "cli");
    assert_eq!(events[0].detail.as_deref(), Some("Accueil-2"));
    assert_eq!(events[0].at, T0);
    let other = create_code(&store, CODE_B, None).await;
    assert_ne!(other.id, created.id);
}

pub async fn one_time_code_is_used_up(store: Store) {
    create_code(&store, CODE_A, None).await;
    store
        .request_enrollment(&code(CODE_A), &sighting("A"), REQ_A, T0 + 1)
        .await
        .unwrap();
    let before = store.last_event_id().await.unwrap();

    assert_eq!(
        refusal(
            store
                .request_enrollment(&code(CODE_A), &sighting("B"), REQ_B, T0 + 2)
                .await
        ),
        EnrollmentRefusal::UnknownCode
    );
    // Not even for the workstation that used it.
    assert_eq!(
        refusal(
            store
                .request_enrollment(&code(CODE_A), &sighting("A"), REQ_B, T0 + 2)
                .await
        ),
        EnrollmentRefusal::UnknownCode
    );
    // A code never created, or an empty hash.
    for hash in [CODE_B, ""] {
        assert_eq!(
            refusal(
                store
                    .request_enrollment(&code(hash), &sighting("B"), REQ_B, T0 + 2)
                    .await
            ),
            EnrollmentRefusal::UnknownCode
        );
    }
    // Refusals change nothing: no workstation B, A keeps its request, no event.
    assert_eq!(store.poste_by_name("B").await.unwrap(), None);
    assert_eq!(store.last_event_id().await.unwrap(), before);
    store
        .approve_enrollment("A", &staff(), T0 + 3)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            store
                .complete_enrollment("A", REQ_B, SECRET_A, T0 + 4)
                .await
        ),
        EnrollmentRefusal::WrongRequest
    );
    store
        .complete_enrollment("A", REQ_A, SECRET_A, T0 + 4)
        .await
        .unwrap();
}

pub async fn refused_request_does_not_use_the_code(store: Store) {
    let enrolled = enroll(&store, "Enrolled").await;
    create_code(&store, CODE_A, None).await;
    create_code(&store, CODE_B, Some("Reserve")).await;
    let before = store.last_event_id().await.unwrap();

    // Already enrolled: refused, and the sighting it carried is not recorded either.
    let result = store
        .request_enrollment(
            &code(CODE_A),
            &PosteSighting {
                nom: "ENROLLED".to_owned(),
                ip: Some("10.9.9.9".to_owned()),
                mac: None,
                version: Some("9.9".to_owned()),
            },
            REQ_B,
            T0 + 10,
        )
        .await;
    assert_eq!(refusal(result), EnrollmentRefusal::AlreadyEnrolled);
    assert_eq!(store.poste(enrolled.id).await.unwrap(), Some(enrolled));

    // Reserved for another name.
    assert_eq!(
        refusal(
            store
                .request_enrollment(&code(CODE_B), &sighting("Autre"), REQ_B, T0 + 10)
                .await
        ),
        EnrollmentRefusal::CodeForAnotherPoste
    );
    assert_eq!(store.poste_by_name("Autre").await.unwrap(), None);
    assert_eq!(store.last_event_id().await.unwrap(), before);

    // Both codes still work, for the right names.
    let a = store
        .request_enrollment(&code(CODE_A), &sighting("Nouveau"), REQ_B, T0 + 11)
        .await
        .unwrap();
    assert_eq!(a.enrollment, Enrollment::EnAttente);
    let b = store
        .request_enrollment(&code(CODE_B), &sighting("Reserve"), REQ_C, T0 + 11)
        .await
        .unwrap();
    assert_eq!(b.enrollment, Enrollment::EnAttente);
    let pending: Vec<_> = store
        .pending_enrollments()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.nom)
        .collect();
    assert_eq!(pending, ["Nouveau", "Reserve"]);
}

pub async fn expired_code_is_refused(store: Store) {
    store
        .create_enrollment_code(CODE_A, None, None, T0 + 1000, &staff(), T0)
        .await
        .unwrap();
    // Refused from `expires_at` on.
    for at in [T0 + 1000, T0 + 5000] {
        assert_eq!(
            refusal(
                store
                    .request_enrollment(&code(CODE_A), &sighting("Tardif"), REQ_A, at)
                    .await
            ),
            EnrollmentRefusal::ExpiredCode
        );
    }
    assert_eq!(store.poste_by_name("Tardif").await.unwrap(), None);
    // The refusals did not use it: still good just before it expires.
    store
        .request_enrollment(&code(CODE_A), &sighting("Tardif"), REQ_A, T0 + 999)
        .await
        .unwrap();
    // Used and expired: reported as used (unknown), not as expired.
    assert_eq!(
        refusal(
            store
                .request_enrollment(&code(CODE_A), &sighting("Tardif"), REQ_A, T0 + 5000)
                .await
        ),
        EnrollmentRefusal::UnknownCode
    );
    // Expired and reserved for another name: expired.
    store
        .create_enrollment_code(CODE_B, Some("Ailleurs"), None, T0 + 1000, &staff(), T0)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            store
                .request_enrollment(&code(CODE_B), &sighting("Tardif"), REQ_A, T0 + 2000)
                .await
        ),
        EnrollmentRefusal::ExpiredCode
    );
}

pub async fn reserved_code_matches_name_case_insensitively(store: Store) {
    create_code(&store, CODE_A, Some("Accueil-2")).await;
    let row = store
        .request_enrollment(&code(CODE_A), &sighting("ACCUEIL-2"), REQ_A, T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        row.nom, "ACCUEIL-2",
        "a new workstation takes the agent's spelling"
    );
    assert_eq!(row.enrollment, Enrollment::EnAttente);

    // An existing workstation keeps its spelling and its id.
    let existing = create_poste(&store, "Accueil-3").await;
    create_code(&store, CODE_B, Some("accueil-3")).await;
    let row = store
        .request_enrollment(&code(CODE_B), &sighting("ACCUEIL-3"), REQ_B, T0 + 2)
        .await
        .unwrap();
    assert_eq!((row.id, row.nom.as_str()), (existing.id, "Accueil-3"));
    assert_eq!(row.enrollment, Enrollment::EnAttente);
    assert_eq!(row.created_at, existing.created_at);
    assert_eq!(row.last_seen, Some(T0 + 2));
    let events = store.events_after(0, 100).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind, last.poste_id, last.actor.as_str()),
        (
            EventKind::EnrollmentRequested,
            Some(existing.id),
            "poste:Accueil-3"
        )
    );
}

pub async fn site_token_proof(store: Store) {
    let new = store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("Borne-1"), REQ_A, T0)
        .await
        .unwrap();
    assert_eq!(new.enrollment, Enrollment::EnAttente);
    assert_eq!((new.created_at, new.last_seen), (T0, Some(T0)));

    // A workstation already known by its sightings: updated like a sighting.
    let seen = store
        .record_poste_seen(
            &PosteSighting {
                nom: "Borne-2".to_owned(),
                ip: Some("10.0.0.2".to_owned()),
                mac: Some("aa:aa:aa:aa:aa:02".to_owned()),
                version: Some("1.0".to_owned()),
            },
            T0,
        )
        .await
        .unwrap();
    let requested = store
        .request_enrollment(
            &EnrollmentProof::SiteToken,
            &PosteSighting {
                nom: "borne-2".to_owned(),
                ip: Some("10.0.0.22".to_owned()),
                mac: None,
                version: Some("2.0".to_owned()),
            },
            REQ_B,
            T0 + 7,
        )
        .await
        .unwrap();
    assert_eq!(requested.id, seen.id);
    assert_eq!(requested.nom, "Borne-2");
    assert_eq!(requested.ip.as_deref(), Some("10.0.0.22"));
    assert_eq!(requested.mac.as_deref(), Some("aa:aa:aa:aa:aa:02"));
    assert_eq!(requested.version.as_deref(), Some("2.0"));
    assert_eq!(requested.last_seen, Some(T0 + 7));
    assert_eq!(requested.enrollment, Enrollment::EnAttente);

    let requests: Vec<_> = store
        .events_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::EnrollmentRequested)
        .map(|e| (e.poste_id, e.actor, e.detail))
        .collect();
    assert_eq!(
        requests,
        [
            (
                Some(new.id),
                "poste:Borne-1".to_owned(),
                Some("jeton_installation".to_owned())
            ),
            (
                Some(seen.id),
                "poste:Borne-2".to_owned(),
                Some("jeton_installation".to_owned())
            ),
        ]
    );
    let pending: Vec<_> = store
        .pending_enrollments()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(pending, [new.id, seen.id]);
}

pub async fn complete_while_pending_is_not_approved(store: Store) {
    let pending = store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("P"), REQ_A, T0)
        .await
        .unwrap();
    let before = store.last_event_id().await.unwrap();
    assert_eq!(
        refusal(
            store
                .complete_enrollment("P", REQ_A, SECRET_A, T0 + 1)
                .await
        ),
        EnrollmentRefusal::NotApproved
    );
    assert_eq!(store.poste(pending.id).await.unwrap(), Some(pending));
    // Never asked at all.
    create_poste(&store, "Q").await;
    assert_eq!(
        refusal(
            store
                .complete_enrollment("Q", REQ_A, SECRET_A, T0 + 1)
                .await
        ),
        EnrollmentRefusal::NotApproved
    );
    assert_eq!(
        store.last_event_id().await.unwrap(),
        before + 1,
        "Q's creation only"
    );
}

pub async fn wrong_request_key_is_refused(store: Store) {
    store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("P"), REQ_A, T0)
        .await
        .unwrap();
    let approved = store.approve_enrollment("P", &staff(), T0).await.unwrap();
    let before = store.last_event_id().await.unwrap();
    assert_eq!(
        refusal(
            store
                .complete_enrollment("P", REQ_B, SECRET_B, T0 + 1)
                .await
        ),
        EnrollmentRefusal::WrongRequest
    );
    assert_eq!(store.poste(approved.id).await.unwrap(), Some(approved));
    assert_eq!(store.last_event_id().await.unwrap(), before);
    let enrolled = store
        .complete_enrollment("P", REQ_A, SECRET_A, T0 + 2)
        .await
        .unwrap();
    assert_eq!(enrolled.secret_hash.as_deref(), Some(SECRET_A));
}

pub async fn new_request_replaces_the_pending_one(store: Store) {
    create_code(&store, CODE_A, None).await;
    store
        .request_enrollment(&code(CODE_A), &sighting("P"), REQ_A, T0)
        .await
        .unwrap();
    // The agent lost its request key and asks again (the code is used: the install token).
    let again = store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("P"), REQ_B, T0 + 1)
        .await
        .unwrap();
    assert_eq!(again.enrollment, Enrollment::EnAttente);
    assert_eq!(store.pending_enrollments().await.unwrap().len(), 1);
    store
        .approve_enrollment("P", &staff(), T0 + 2)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            store
                .complete_enrollment("P", REQ_A, SECRET_A, T0 + 3)
                .await
        ),
        EnrollmentRefusal::WrongRequest
    );

    // Asking again once approved sets it back to pending with the new request.
    let again = store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("p"), REQ_C, T0 + 4)
        .await
        .unwrap();
    assert_eq!(again.enrollment, Enrollment::EnAttente);
    assert_eq!(
        refusal(
            store
                .complete_enrollment("P", REQ_C, SECRET_A, T0 + 5)
                .await
        ),
        EnrollmentRefusal::NotApproved
    );
    store
        .approve_enrollment("P", &staff(), T0 + 6)
        .await
        .unwrap();
    assert_eq!(
        refusal(
            store
                .complete_enrollment("P", REQ_B, SECRET_A, T0 + 7)
                .await
        ),
        EnrollmentRefusal::WrongRequest
    );
    let enrolled = store
        .complete_enrollment("P", REQ_C, SECRET_B, T0 + 7)
        .await
        .unwrap();
    assert_eq!(enrolled.enrollment, Enrollment::Enrole);
    assert_eq!(enrolled.secret_hash.as_deref(), Some(SECRET_B));
}

pub async fn reset_allows_a_new_enrollment(store: Store) {
    let enrolled = enroll(&store, "Vole").await;
    assert_eq!(enrolled.enrollment, Enrollment::Enrole);
    let reset = store
        .reset_enrollment("VOLE", &Actor::Cli, T0 + 10)
        .await
        .unwrap();
    assert_eq!(reset.id, enrolled.id);
    assert_eq!(reset.enrollment, Enrollment::Aucun);
    assert_eq!(reset.secret_hash, None);
    assert_eq!(store.poste(enrolled.id).await.unwrap(), Some(reset.clone()));
    let last = store.events_after(0, 100).await.unwrap().pop().unwrap();
    assert_eq!(
        (
            last.kind,
            last.poste_id,
            last.actor.as_str(),
            last.detail.as_deref(),
            last.at
        ),
        (
            EventKind::EnrollmentReset,
            Some(enrolled.id),
            "cli",
            Some("Vole"),
            T0 + 10
        )
    );
    // The old request key is gone too.
    assert_eq!(
        refusal(
            store
                .complete_enrollment("Vole", REQ_A, SECRET_B, T0 + 11)
                .await
        ),
        EnrollmentRefusal::NotApproved
    );

    // A new request is accepted, and goes through.
    create_code(&store, CODE_A, Some("vole")).await;
    let requested = store
        .request_enrollment(&code(CODE_A), &sighting("Vole"), REQ_B, T0 + 12)
        .await
        .unwrap();
    assert_eq!(requested.enrollment, Enrollment::EnAttente);
    assert_eq!(requested.secret_hash, None);
    store
        .approve_enrollment("Vole", &staff(), T0 + 13)
        .await
        .unwrap();
    let enrolled = store
        .complete_enrollment("Vole", REQ_B, SECRET_B, T0 + 14)
        .await
        .unwrap();
    assert_eq!(enrolled.secret_hash.as_deref(), Some(SECRET_B));

    // Resetting a pending request drops it: approving then has nothing to approve.
    store
        .request_enrollment(&EnrollmentProof::SiteToken, &sighting("Autre"), REQ_A, T0)
        .await
        .unwrap();
    let reset = store
        .reset_enrollment("Autre", &staff(), T0 + 20)
        .await
        .unwrap();
    assert_eq!(reset.enrollment, Enrollment::Aucun);
    assert!(store.pending_enrollments().await.unwrap().is_empty());
    assert_eq!(
        refusal(store.approve_enrollment("Autre", &staff(), T0 + 21).await),
        EnrollmentRefusal::NotApproved
    );
    // Resetting a workstation that never enrolled is harmless.
    let plain = create_poste(&store, "Simple").await;
    let reset = store
        .reset_enrollment("simple", &staff(), T0 + 22)
        .await
        .unwrap();
    assert_eq!(reset, plain);
}

pub async fn approve_requires_a_pending_request(store: Store) {
    create_poste(&store, "Aucun").await;
    store
        .request_enrollment(
            &EnrollmentProof::SiteToken,
            &sighting("Approuve"),
            REQ_A,
            T0,
        )
        .await
        .unwrap();
    store
        .approve_enrollment("Approuve", &staff(), T0)
        .await
        .unwrap();
    enroll(&store, "Enrole").await;
    let before = store.last_event_id().await.unwrap();
    for nom in ["Aucun", "Approuve", "Enrole"] {
        assert_eq!(
            refusal(store.approve_enrollment(nom, &staff(), T0 + 1).await),
            EnrollmentRefusal::NotApproved,
            "{nom}"
        );
    }
    assert_eq!(store.last_event_id().await.unwrap(), before);
    let states: Vec<_> = store
        .list_postes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.nom, p.enrollment))
        .collect();
    assert_eq!(
        states,
        [
            ("Approuve".to_owned(), Enrollment::Approuve),
            ("Aucun".to_owned(), Enrollment::Aucun),
            ("Enrole".to_owned(), Enrollment::Enrole),
        ]
    );
}

pub async fn enrollment_of_unknown_names_is_not_found(store: Store) {
    create_poste(&store, "Connu").await;
    let before = store.last_event_id().await.unwrap();
    assert_poste_not_found(
        store.approve_enrollment("inconnu", &staff(), T0).await,
        "inconnu",
    );
    assert_poste_not_found(
        store
            .complete_enrollment("inconnu", REQ_A, SECRET_A, T0)
            .await,
        "inconnu",
    );
    assert_poste_not_found(
        store.reset_enrollment("inconnu", &staff(), T0).await,
        "inconnu",
    );
    assert_eq!(store.last_event_id().await.unwrap(), before);
    assert_eq!(store.list_postes().await.unwrap().len(), 1);
}

pub async fn existing_postes_are_not_enrolled(store: Store) {
    let created = store
        .create_poste(
            &NewPoste {
                nom: "Cree".to_owned(),
                ip: Some("10.0.0.1".to_owned()),
                mac: None,
            },
            &staff(),
            T0,
        )
        .await
        .unwrap();
    let seen = store
        .record_poste_seen(
            &PosteSighting {
                nom: "Vu".to_owned(),
                ip: Some("10.0.0.2".to_owned()),
                mac: None,
                version: None,
            },
            T0,
        )
        .await
        .unwrap();
    for row in [&created, &seen] {
        assert_eq!(row.enrollment, Enrollment::Aucun, "{}", row.nom);
        assert_eq!(row.secret_hash, None, "{}", row.nom);
    }
    assert_eq!(
        store.list_postes().await.unwrap(),
        vec![created.clone(), seen.clone()]
    );
    assert_eq!(store.poste(seen.id).await.unwrap(), Some(seen.clone()));
    assert_eq!(store.poste_by_name("cree").await.unwrap(), Some(created));
    assert_eq!(store.poste_by_ip("10.0.0.2").await.unwrap(), Some(seen));
    assert!(store.pending_enrollments().await.unwrap().is_empty());
}

pub async fn a_code_made_for_a_space_enrolls_a_new_workstation_there(store: Store) {
    let space = |nom: &str| poste_store::NewSpace {
        nom: nom.to_owned(),
        adresse: None,
    };
    let quartier = store
        .save_space(None, &space("Maison de quartier"), &staff(), T0)
        .await
        .unwrap();
    let annexe = store
        .save_space(None, &space("Annexe"), &staff(), T0)
        .await
        .unwrap();
    let made = |hash: &'static str, espace: i64| {
        let store = store.clone();
        async move {
            store
                .create_enrollment_code(hash, None, Some(espace), T0 + HOUR_MS, &staff(), T0)
                .await
        }
    };
    // A space that never was, or deleted: no code.
    assert!(matches!(
        made(CODE_B, annexe.id + 100).await,
        Err(StoreError::NotFound { what: "espace", .. })
    ));
    let code = made(CODE_A, quartier.id).await.unwrap();
    assert_eq!(code.espace_id, Some(quartier.id));

    // A new workstation waits in that space.
    let proof = EnrollmentProof::OneTimeCode(CODE_A.to_owned());
    let pending = store
        .request_enrollment(&proof, &sighting("MDQ-05"), REQ_A, T0 + 1)
        .await
        .unwrap();
    assert_eq!(pending.espace_id, quartier.id);
    assert_eq!(pending.enrollment, Enrollment::EnAttente);

    // One known already stays where it is.
    let known = create_poste(&store, "MED-05").await;
    made(CODE_B, quartier.id).await.unwrap();
    let proof = EnrollmentProof::OneTimeCode(CODE_B.to_owned());
    let again = store
        .request_enrollment(&proof, &sighting("MED-05"), REQ_B, T0 + 2)
        .await
        .unwrap();
    assert_eq!(again.espace_id, known.espace_id);

    // A space deleted after its code was made: the workstation waits in the default space.
    let hash_c = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
    made(hash_c, annexe.id).await.unwrap();
    store
        .delete_space(annexe.id, &staff(), T0 + 3)
        .await
        .unwrap();
    assert!(matches!(
        made(
            "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0",
            annexe.id
        )
        .await,
        Err(StoreError::NotFound { what: "espace", .. })
    ));
    let proof = EnrollmentProof::OneTimeCode(hash_c.to_owned());
    let orphan = store
        .request_enrollment(&proof, &sighting("ANX-01"), REQ_C, T0 + 4)
        .await
        .unwrap();
    assert_eq!(orphan.espace_id, poste_store::DEFAULT_SPACE);

    // The install token, the agent naming its space: a new workstation waits there too.
    let named = store
        .request_enrollment(
            &EnrollmentProof::SiteTokenIn(quartier.id),
            &sighting("MDQ-06"),
            REQ_A,
            T0 + 5,
        )
        .await
        .unwrap();
    assert_eq!(named.espace_id, quartier.id);
    assert_eq!(named.enrollment, Enrollment::EnAttente);

    // A code made for the quartier, its agent naming the default space: refused, and the code
    // is not used up (named right, it then works).
    let hash_e = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";
    made(hash_e, quartier.id).await.unwrap();
    let crossed = store
        .request_enrollment(
            &EnrollmentProof::OneTimeCodeIn(hash_e.to_owned(), poste_store::DEFAULT_SPACE),
            &sighting("MDQ-07"),
            REQ_B,
            T0 + 6,
        )
        .await;
    assert_eq!(refusal(crossed), EnrollmentRefusal::CodeForAnotherSpace);
    assert_eq!(store.poste_by_name("MDQ-07").await.unwrap(), None);
    let agreed = store
        .request_enrollment(
            &EnrollmentProof::OneTimeCodeIn(hash_e.to_owned(), quartier.id),
            &sighting("MDQ-07"),
            REQ_B,
            T0 + 7,
        )
        .await
        .unwrap();
    assert_eq!(agreed.espace_id, quartier.id);

    // A code made for no space, its agent naming the quartier: the workstation waits there.
    let hash_f = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
    store
        .create_enrollment_code(hash_f, None, None, T0 + HOUR_MS, &staff(), T0)
        .await
        .unwrap();
    let spaceless = store
        .request_enrollment(
            &EnrollmentProof::OneTimeCodeIn(hash_f.to_owned(), quartier.id),
            &sighting("MDQ-08"),
            REQ_C,
            T0 + 8,
        )
        .await
        .unwrap();
    assert_eq!(spaceless.espace_id, quartier.id);
    assert_eq!(spaceless.requested_space, Some(quartier.id));

    // Waiting in the quartier, it asks again naming the default space (IT corrected its
    // configuration): it stays where it waits, and the space it named now is kept beside.
    let corrected = store
        .request_enrollment(
            &EnrollmentProof::SiteTokenIn(poste_store::DEFAULT_SPACE),
            &sighting("MDQ-08"),
            REQ_A,
            T0 + 9,
        )
        .await
        .unwrap();
    assert_eq!(
        (corrected.espace_id, corrected.requested_space),
        (quartier.id, Some(poste_store::DEFAULT_SPACE))
    );
    // Asking again naming none: no space asked for.
    let unnamed = store
        .request_enrollment(
            &EnrollmentProof::SiteToken,
            &sighting("MDQ-08"),
            REQ_B,
            T0 + 10,
        )
        .await
        .unwrap();
    assert_eq!(
        (unnamed.espace_id, unnamed.requested_space),
        (quartier.id, None)
    );
    assert_eq!(
        store
            .poste_by_name("MDQ-08")
            .await
            .unwrap()
            .unwrap()
            .requested_space,
        None
    );
}
