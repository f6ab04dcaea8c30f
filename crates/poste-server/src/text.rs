//! Every text a visitor or a staff member reads, in French, in one place so it can be
//! translated. Log messages (read by IT staff, in English) are not here.

use poste_proto::{EndReason, ErrorCode, RefusalReason, WarningLevel};

use crate::domain::duration::format_duration;
use crate::domain::opening::Closing;

/// `code_invalid.message` for each refusal.
pub fn refusal(reason: RefusalReason, poste: Option<&str>, retry_secs: u64) -> String {
    match reason {
        RefusalReason::Inconnu => {
            "Code inconnu. Vérifiez la saisie ou adressez-vous à l'accueil.".to_owned()
        }
        RefusalReason::DejaUtilise => "Ce code a déjà été utilisé.".to_owned(),
        RefusalReason::Expire => {
            "Ce code a expiré. Demandez un nouveau code à l'accueil.".to_owned()
        }
        RefusalReason::Annule => "Ce code a été annulé.".to_owned(),
        RefusalReason::MauvaisPoste => match poste {
            Some(poste) => format!("Ce code est réservé au poste {poste}."),
            None => "Ce code est réservé à un autre poste.".to_owned(),
        },
        RefusalReason::TropDEssais => format!(
            "Trop d'essais. Réessayez dans {}.",
            format_duration(i64::try_from(retry_secs.max(1)).unwrap_or(i64::MAX))
        ),
        RefusalReason::HorsService => {
            "Ce poste est hors service. Adressez-vous à l'accueil pour changer de poste.".to_owned()
        }
        RefusalReason::Ferme => {
            "L'espace est fermé : les sessions reprendront à l'ouverture.".to_owned()
        }
        RefusalReason::Autre => "Code refusé.".to_owned(),
    }
}

/// `code_invalid.message` for a refused code.
pub fn code_refusal(refusal: &crate::domain::access::CodeRefusal) -> String {
    if refusal.other_space {
        return CODE_OF_ANOTHER_SPACE.to_owned();
    }
    self::refusal(refusal.reason, refusal.bound_to.as_deref(), 0)
}

/// `warning.message` when the session ends because the space closes, and why: "Il vous reste
/// 5 minutes : l'espace ferme à 12:00 pour la pause (réouverture à 13:30)".
pub fn warning_closing(
    level: WarningLevel,
    remaining_secs: i64,
    time: &str,
    why: &Closing,
) -> String {
    format!(
        "{} : l'espace ferme {}",
        warning(level, remaining_secs),
        closing_words(time, why)
    )
}

/// What follows « l'espace ferme »: "à 18:00", "à 12:00 pour la pause (réouverture à 13:30)",
/// "à 16:00 aujourd'hui (Veille de Noël)".
fn closing_words(time: &str, why: &Closing) -> String {
    match why {
        Closing::Break { reopens } => {
            format!("à {time} pour la pause (réouverture à {reopens})")
        }
        Closing::SpecialDay { label } => format!("à {time} aujourd'hui ({label})"),
        Closing::EndOfDay => format!("à {time}"),
    }
}

/// `warning.message`: "Il vous reste 5 minutes".
pub fn warning(level: WarningLevel, remaining_secs: i64) -> String {
    let _ = level;
    let left = if remaining_secs >= 60 && remaining_secs % 60 == 0 {
        plural(remaining_secs / 60, "minute")
    } else if remaining_secs >= 60 {
        // Round to the nearest minute for a visitor; the countdown shows the seconds.
        plural((remaining_secs + 30) / 60, "minute")
    } else {
        plural(remaining_secs.max(1), "seconde")
    };
    format!("Il vous reste {left}")
}

fn plural(count: i64, word: &str) -> String {
    if count > 1 {
        format!("{count} {word}s")
    } else {
        format!("{count} {word}")
    }
}

/// `session_terminated.message` when no custom message is given.
pub fn end_message(reason: EndReason) -> &'static str {
    match reason {
        EndReason::TempsExpire => "Votre temps est écoulé",
        EndReason::TermineParAnimateur => "Votre session a été terminée par un animateur",
        EndReason::TermineParVisiteur => "Vous avez terminé votre session",
        EndReason::Autre => "Votre session est terminée",
    }
}

/// `time_request.message`, for the visitor.
pub fn time_request(status: poste_proto::TimeRequestStatus, minutes: Option<i64>) -> String {
    use poste_proto::TimeRequestStatus as S;
    match (status, minutes) {
        (S::EnAttente, _) => {
            "Votre demande a été transmise à l'animateur. Merci de patienter.".to_owned()
        }
        (S::Acceptee, Some(minutes)) => {
            format!("Demande acceptée : {} de plus.", plural(minutes, "minute"))
        }
        (S::Acceptee, None) => "Demande acceptée.".to_owned(),
        (S::Refusee | S::Autre, _) => {
            "Votre demande de temps supplémentaire n'a pas été acceptée.".to_owned()
        }
    }
}

pub const REQUEST_NOT_FOUND: &str = "Cette demande de temps n'existe plus.";
pub const REQUEST_ALREADY_ANSWERED: &str =
    "Cette demande a déjà reçu une réponse : rien n'a été fait.";

/// `error.message` for each error code.
pub fn protocol_error(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::JsonInvalide => "Message illisible : JSON attendu",
        ErrorCode::TypeInconnu => "Type de message inconnu",
        ErrorCode::MessageInvalide => "Message incomplet ou mal formé",
        ErrorCode::MessageTropGrand => "Message trop grand",
        ErrorCode::TropDeMessages => "Trop de messages : ralentissez",
        ErrorCode::SessionInconnue => "Session inconnue",
        ErrorCode::SessionNonAutorisee => "Cette session n'appartient pas à ce poste",
        ErrorCode::SessionNonDemarrable => "Cette session ne peut pas être démarrée",
        ErrorCode::PosteNonAuthentifie => {
            "Ce poste n'est pas reconnu : son secret d'enrôlement est absent ou invalide"
        }
        ErrorCode::PosteNonEnrole => "Ce serveur n'accepte que les postes enrôlés",
        ErrorCode::SessionNonActive => "Cette session n'est pas en cours",
        ErrorCode::ServiceIndisponible => {
            "Service momentanément indisponible, réessayez dans un instant"
        }
        ErrorCode::ErreurInterne | ErrorCode::Autre => "Erreur interne du serveur",
    }
}

/// Default visitor name on the wire when staff gave none.
pub const ANONYMOUS_VISITOR: &str = "Visiteur";

// ----- HTTP API and command line ----------------------------------------------------------------

pub const API_UNAUTHENTICATED: &str =
    "Authentification requise : en-tête « Authorization: Bearer <jeton> »";
pub const API_BAD_TOKEN: &str = "Jeton d'API inconnu ou révoqué";
pub const API_NOT_FOUND: &str = "Ressource introuvable";
pub const API_UNAVAILABLE: &str = "Base de données indisponible, réessayez dans un instant";
pub const API_INTERNAL: &str = "Erreur interne du serveur";

pub fn session_not_found(id: i64) -> String {
    format!("Session {id} introuvable")
}

pub fn poste_not_found(name: &str) -> String {
    format!("Poste « {name} » inconnu")
}

pub fn poste_exists(name: &str) -> String {
    format!("Le poste « {name} » existe déjà")
}

pub fn token_exists(name: &str) -> String {
    format!("Un jeton nommé « {name} » existe déjà")
}

pub fn token_not_found(name: &str) -> String {
    format!("Aucun jeton actif nommé « {name} »")
}

pub fn session_wrong_state(id: i64, statut: &str) -> String {
    format!(
        "La session {id} est « {} » : action impossible",
        status_label(statut)
    )
}

/// A session status as staff read it.
pub fn status_label(statut: &str) -> &'static str {
    match statut {
        "en_attente" => "en attente",
        "active" => "en cours",
        "terminee" => "terminée",
        "expiree" => "expirée",
        "annulee" => "annulée",
        _ => "inconnue",
    }
}

/// Why a session ended (`sessions.end_reason`, the protocol's `raison`) as staff read it;
/// `None` for a reason this server does not write.
pub fn end_reason_label(reason: &str) -> Option<&'static str> {
    match reason {
        "temps_expire" => Some("Temps écoulé"),
        "termine_par_animateur" => Some("Terminée par un animateur"),
        "termine_par_visiteur" => Some("Terminée par le visiteur"),
        "autre" => Some("Autre"),
        _ => None,
    }
}

/// A duration that does not parse; an empty one is missing, not « » invalid.
pub fn invalid_duration(input: &str) -> String {
    let input = input.trim();
    if input.is_empty() {
        "Indiquez une durée, par exemple 2h, 1h30, 90min ou 45s.".to_owned()
    } else {
        format!("Durée « {input} » invalide : écrivez par exemple 2h, 1h30, 90min ou 45s.")
    }
}

/// A duration of zero or past the longest allowed (a bound of « 1 s » reads like a joke).
pub fn duration_out_of_range(max_secs: i64) -> String {
    format!(
        "La durée doit être de {} au plus, et ne peut pas être nulle.",
        format_duration(max_secs)
    )
}

pub fn count_out_of_range(max: u32) -> String {
    format!("Le nombre de sessions doit être compris entre 1 et {max}")
}

pub fn closing_cut(time: &str, why: &Closing) -> String {
    format!(
        "L'espace ferme {} : la session s'arrêtera à {time}.",
        closing_words(time, why)
    )
}

pub fn closed_now() -> String {
    "L'espace est fermé : impossible d'ajouter du temps.".to_owned()
}

/// A code made for one space, typed in another (`code_invalid.message`, reason `mauvais_poste`).
pub const CODE_OF_ANOTHER_SPACE: &str =
    "Ce code est valable dans un autre espace. Adressez-vous à l'accueil.";
pub const SPACE_REQUIRED: &str = "Choisissez l'espace où ce code sera valable.";
pub const SPACE_NOT_FOUND: &str = "Cet espace n'existe plus : choisissez-en un dans la liste.";
pub const SPACE_ONE_OR_EVERY: &str = "Choisissez un espace ou tous les espaces, pas les deux.";

pub const APPROVAL_SPACE_MISSING: &str = "Ce site a plusieurs espaces : dites dans lequel servira le poste (--espace NOM en ligne de commande, « espace » dans l'API).";

pub fn space_unknown(name: &str) -> String {
    format!("Aucun espace ne s'appelle « {name} ».")
}

pub const SPACE_EVERY: &str = "Tous les espaces";
pub const SPACE_NAME_REQUIRED: &str = "Donnez un nom à l'espace.";
pub const SPACE_NAME_INVALID: &str =
    "Le nom d'un espace a 64 caractères au plus et son adresse 200, sur une seule ligne.";
pub const SPACE_LAST: &str = "C'est le seul espace du site : il ne peut pas être supprimé.";
pub const SPACE_WORKSTATION_BUSY: &str = "Ce poste a une session en cours ou un code en attente \
     pour son espace : déplacez-le quand elle sera finie, ou annulez le code.";

/// A code bound to a workstation, with another space chosen for it.
pub fn poste_in_another_space(poste: &str) -> String {
    format!("Le poste {poste} est dans un autre espace : choisissez son espace, ou aucun poste.")
}

pub fn space_name_taken(name: &str) -> String {
    format!("Un espace s'appelle déjà « {name} ».")
}

/// A space that still has workstations cannot be deleted.
pub fn space_has_workstations(count: u64) -> String {
    let them = if count > 1 { "les" } else { "le" };
    format!(
        "Cet espace a encore {} : déplacez-{them} dans un autre espace ou retirez-{them} d'abord.",
        plural(i64::try_from(count).unwrap_or(i64::MAX), "poste")
    )
}

/// A space that is some accounts' only space cannot be deleted.
pub fn space_only_of_staff(count: u64) -> String {
    let (accounts, them) = if count > 1 {
        (format!("{count} comptes"), "leur")
    } else {
        ("1 compte".to_owned(), "lui")
    };
    format!(
        "C'est le seul espace de {accounts} de l'équipe : donnez-{them} un autre espace d'abord (page Équipe)."
    )
}

/// A space whose codes are still waiting or running cannot be deleted.
pub fn space_has_sessions(count: u64) -> String {
    let (their, them) = if count > 1 {
        ("leur", "les")
    } else {
        ("sa", "le")
    };
    format!(
        "Cet espace a encore {} en attente ou en cours : attendez {their} fin ou annulez-{them} d'abord.",
        plural(i64::try_from(count).unwrap_or(i64::MAX), "code")
    )
}

pub const VISITOR_NOT_FOUND: &str = "Ce visiteur n'est plus dans le registre.";
pub const VISITOR_ONE_CODE: &str = "Un seul code à la fois pour un visiteur inscrit.";

/// The period of a time rule.
#[derive(Debug, Clone, Copy)]
pub enum Per {
    Day,
    Week,
}

pub fn rule_session(category: &str, max_secs: i64) -> String {
    format!(
        "Catégorie « {category} » : une session dure au plus {}.",
        format_duration(max_secs)
    )
}

pub fn rule_period(category: &str, limit: i64, used: i64, per: Per) -> String {
    let (per, period) = match per {
        Per::Day => ("par jour", "aujourd'hui"),
        Per::Week => ("par semaine", "cette semaine"),
    };
    let left = (limit - used).max(0);
    if left == 0 {
        return format!(
            "Catégorie « {category} » : {} {per} au plus, déjà tout utilisé {period}.",
            format_duration(limit)
        );
    }
    format!(
        "Catégorie « {category} » : {} {per} au plus. Déjà utilisé {period} : {} ; il reste {}.",
        format_duration(limit),
        format_duration(used),
        format_duration(left)
    )
}

/// A registered visitor's use of the workstations, on their page: `1 h 30 min aujourd'hui,
/// 3 h cette semaine`; a period with nothing says so in words, never « 0 s ».
pub fn visitor_usage(today_secs: i64, week_secs: i64) -> String {
    match (today_secs > 0, week_secs > 0) {
        (_, false) => "Aucune session cette semaine.".to_owned(),
        (false, true) => format!(
            "Aucune session aujourd'hui ; {} cette semaine.",
            format_duration(week_secs)
        ),
        (true, true) => format!(
            "{} aujourd'hui, {} cette semaine.",
            format_duration(today_secs),
            format_duration(week_secs)
        ),
    }
}

pub const NAME_TOO_LONG: &str = "Texte trop long (200 caractères au plus)";
pub const MESSAGE_EMPTY: &str = "Écrivez le message à afficher.";

pub fn sessions_created(count: usize) -> String {
    if count > 1 {
        format!("{count} sessions créées :")
    } else {
        "Session créée :".to_owned()
    }
}

pub fn token_created(name: &str) -> String {
    format!("Jeton « {name} » créé. Copiez-le maintenant, il ne sera plus jamais affiché :")
}

// ----- enrollment -------------------------------------------------------------------------------

pub const ENROLL_PENDING: &str =
    "Demande d'enrôlement enregistrée : un animateur doit maintenant valider ce poste.";
/// `/ws/client/`'s greeting (`connection_established`).
pub const CONNECTION_ESTABLISHED: &str = "Connexion établie avec le serveur";
pub const ENROLL_DONE: &str = "Poste enrôlé : il est désormais reconnu par le serveur.";
pub const ENROLL_NO_PROOF: &str =
    "Un code d'enrôlement (ou le jeton d'installation) est nécessaire pour enrôler ce poste.";
pub const ENROLL_BAD_TOKEN: &str = "Jeton d'installation invalide.";

/// The agent's `espace` names no space of the server.
pub fn enroll_unknown_space(nom: &str) -> String {
    format!(
        "Aucun espace ne s'appelle « {nom} » sur le serveur : corrigez « espace » dans la configuration du poste (ou retirez-le pour laisser l'administrateur choisir), puis recommencez."
    )
}
pub const ENROLL_BAD_REQUEST: &str =
    "Demande d'enrôlement invalide : nom de poste ou clé de demande manquant.";

pub fn enrollment_refused(refusal: poste_store::EnrollmentRefusal) -> &'static str {
    use poste_store::EnrollmentRefusal as R;
    match refusal {
        R::UnknownCode => {
            "Code d'enrôlement inconnu ou déjà utilisé (chaque code ne sert qu'une fois) : vérifiez-le, ou demandez-en un nouveau."
        }
        R::ExpiredCode => "Code d'enrôlement expiré : demandez-en un nouveau.",
        R::CodeForAnotherPoste => "Ce code d'enrôlement est réservé à un autre poste.",
        R::CodeForAnotherSpace => {
            "Ce code d'enrôlement a été fait pour un autre espace que celui que nomme la configuration du poste (« espace ») : corrigez-la, ou demandez un code pour cet espace."
        }
        R::AlreadyEnrolled => {
            "Ce poste est déjà enrôlé : un administrateur doit le réinitialiser avant un nouvel enrôlement."
        }
        R::WrongRequest => {
            "Cette demande d'enrôlement n'est pas celle qui a été validée : recommencez avec un nouveau code."
        }
        R::NotApproved => "Ce poste n'attend pas de validation.",
    }
}

pub fn enrollment_code_created(
    code: &str,
    poste: Option<&str>,
    space: Option<&str>,
    until: &str,
) -> String {
    format!(
        "Code d'enrôlement{}{} : {code}\n(valable jusqu'au {until}, une seule fois)",
        poste
            .map(|p| format!(" pour le poste « {p} »"))
            .unwrap_or_default(),
        space
            .map(|s| format!(" dans l'espace « {} »", s.trim()))
            .unwrap_or_default()
    )
}

// ----- workshops ---------------------------------------------------------------------------------

pub const WORKSHOP_NAME_MISSING: &str =
    "Donnez un nom à l'atelier (par exemple « Atelier CV ») : rien n'a été ouvert.";
pub const WORKSHOP_POSTES_MISSING: &str = "Cochez les postes de l'atelier : rien n'a été ouvert.";

pub fn workshop_too_many(max: u32) -> String {
    format!("Un atelier compte au plus {max} postes : rien n'a été ouvert.")
}

/// Why one workstation cannot take the workshop.
pub mod workshop_refusal {
    pub fn out_of_order(poste: &str) -> String {
        format!("{poste} est hors service")
    }

    pub fn offline(poste: &str) -> String {
        format!("{poste} n'est pas connecté")
    }

    pub fn agent_too_old(poste: &str) -> String {
        format!("l'agent de {poste} est trop ancien pour ouvrir un atelier (mettez-le à jour)")
    }

    pub fn busy(poste: &str) -> String {
        format!("une session est en cours sur {poste}")
    }

    pub fn space_closed(space: &str) -> String {
        format!("l'espace « {space} » est fermé")
    }
}

/// The workshop refused as a whole, with every reason.
pub fn workshop_refused(reasons: &[String]) -> String {
    format!(
        "Rien n'a été ouvert : {}. Décochez ces postes ou réglez le problème, puis recommencez.",
        reasons.join(" ; ")
    )
}

/// The confirmation: how many workstations, for how long, and the end when the space's closing
/// cut it.
pub fn workshop_opened(
    name: &str,
    postes: usize,
    duration_secs: i64,
    cut_at: Option<&str>,
) -> String {
    let mut said = format!(
        "Atelier « {name} » ouvert sur {postes} poste(s) pour {} : les sessions ont commencé.",
        format_duration(duration_secs)
    );
    if let Some(at) = cut_at {
        said.push_str(&format!(
            " L'espace ferme avant : elles s'arrêteront à {at}."
        ));
    }
    said
}

/// What the screens of a room locked by staff say when they typed nothing.
pub const ROOM_LOCK_DEFAULT: &str =
    "Un animateur a mis les postes en pause : regardez-le, la séance reprend dans un instant.";
pub const ROOM_LOCK_ACTION_REQUIRED: &str =
    "Choisissez de mettre les postes en pause ou de lever la pause.";

/// The banner after a room's lock or unlock.
pub fn room_lock_done(locked: bool, reached: usize, offline: usize, too_old: usize) -> String {
    let mut parts = vec![match (locked, reached) {
        (_, 0) => "Aucun poste connecté n'a été atteint.".to_owned(),
        (true, n) => format!("{n} poste(s) mis en pause."),
        (false, n) => format!("Pause levée sur {n} poste(s)."),
    }];
    if locked && offline > 0 {
        parts.push(format!(
            "{offline} poste(s) non connecté(s) : ils seront en pause à leur prochaine connexion."
        ));
    }
    if too_old > 0 {
        parts.push(format!(
            "{too_old} poste(s) à l'agent trop ancien ne peuvent pas être mis en pause : mettez-les à jour."
        ));
    }
    parts.join(" ")
}

// ----- power -------------------------------------------------------------------------------------

pub const POWER_ACTION_REQUIRED: &str = "Choisissez d'éteindre ou de redémarrer.";

fn power_verb(action: poste_proto::PowerAction) -> &'static str {
    match action {
        poste_proto::PowerAction::Redemarrage => "redémarrer",
        poste_proto::PowerAction::Extinction | poste_proto::PowerAction::Autre => "éteindre",
    }
}

fn power_future(action: poste_proto::PowerAction) -> &'static str {
    match action {
        poste_proto::PowerAction::Redemarrage => "redémarrera",
        poste_proto::PowerAction::Extinction | poste_proto::PowerAction::Autre => "s'éteindra",
    }
}

pub fn power_session_choice(poste: &str) -> String {
    format!("Une session est en cours sur {poste} : choisissez d'attendre sa fin ou de l'écourter.")
}

pub fn power_offline(poste: &str) -> String {
    format!(
        "{poste} n'est pas connecté : il n'a pas reçu l'ordre. S'il est allumé, vérifiez son câble réseau."
    )
}

pub fn power_agent_too_old(poste: &str) -> String {
    format!("L'agent de {poste} est trop ancien pour s'éteindre sur ordre : mettez-le à jour.")
}

pub fn power_session_changed(poste: &str) -> String {
    format!("La session de {poste} vient de se terminer : recommencez.")
}

/// What the visitor reads when staff cut the session short to power the workstation off.
pub fn power_cut_notice(action: poste_proto::PowerAction, cut_secs: u64) -> String {
    format!(
        "Un animateur doit {} ce poste : votre session se termine dans {}. Enregistrez votre travail.",
        power_verb(action),
        format_duration(i64::try_from(cut_secs).unwrap_or(i64::MAX))
    )
}

/// The confirmation of an order to one workstation.
pub fn power_ordered(
    poste: &str,
    action: poste_proto::PowerAction,
    ordered: &crate::domain::power::Ordered,
    notice_secs: u64,
    end_at: Option<&str>,
) -> String {
    use crate::domain::power::Ordered;
    let future = power_future(action);
    match (ordered, end_at) {
        (Ordered::Now, _) => format!(
            "{poste} {future} dans {}.",
            format_duration(i64::try_from(notice_secs).unwrap_or(i64::MAX))
        ),
        (Ordered::CutShort(_), Some(at)) => format!(
            "La session de {poste} se termine à {at}, le visiteur est prévenu ; puis le poste {future}."
        ),
        (Ordered::AfterSession | Ordered::CutShort(_), _) => {
            format!("{poste} {future} à la fin de la session en cours.")
        }
    }
}

/// The summary of an order to every workstation of the space.
pub fn power_ordered_all(
    action: poste_proto::PowerAction,
    done: &crate::domain::power::SpaceOrdered,
) -> String {
    let future = power_future(action);
    let mut parts = vec![match (done.now, done.after_session) {
        (0, 0) => "Aucun poste connecté n'a reçu l'ordre.".to_owned(),
        (now, 0) => format!("{now} poste(s) {future} dans un instant."),
        (0, later) => format!("{later} poste(s) {future} à la fin de leur session."),
        (now, later) => format!(
            "{now} poste(s) {future} dans un instant, {later} autre(s) à la fin de leur session."
        ),
    }];
    if done.offline > 0 {
        parts.push(format!(
            "{} poste(s) non connecté(s) ne l'ont pas reçu.",
            done.offline
        ));
    }
    if done.too_old > 0 {
        parts.push(format!(
            "{} poste(s) à l'agent trop ancien ne l'ont pas reçu : mettez-les à jour.",
            done.too_old
        ));
    }
    parts.join(" ")
}

pub fn wake_no_mac(poste: &str) -> String {
    format!(
        "L'adresse MAC de {poste} n'est pas connue : il ne peut pas être allumé à distance. Elle le sera après une connexion de son agent (version récente)."
    )
}

pub fn wake_already_on(poste: &str) -> String {
    format!("{poste} est déjà allumé et connecté.")
}

pub fn wake_failed(poste: &str, err: &std::io::Error) -> String {
    format!(
        "Le signal d'allumage de {poste} n'a pas pu être envoyé ({err}). Vérifiez le réglage [power] wake_address du serveur."
    )
}

pub fn wake_sent(poste: &str) -> String {
    format!(
        "Signal d'allumage envoyé à {poste} : il apparaîtra connecté dans une à deux minutes. S'il ne s'allume pas, vérifiez que le Wake-on-LAN est activé dans son BIOS."
    )
}

pub fn woken_all(done: &crate::domain::power::SpaceWoken) -> String {
    let mut parts = vec![if done.woken > 0 {
        format!("Signal d'allumage envoyé à {} poste(s).", done.woken)
    } else {
        "Aucun poste à allumer.".to_owned()
    }];
    if done.on > 0 {
        parts.push(format!("{} poste(s) déjà connecté(s).", done.on));
    }
    if !done.no_mac.is_empty() {
        parts.push(format!(
            "Adresse MAC inconnue, non allumé(s) : {}.",
            done.no_mac.join(", ")
        ));
    }
    parts.join(" ")
}

// ----- web console ------------------------------------------------------------------------------

/// Texts of the web console that are not in its templates (`templates/console/`): messages of
/// validation, refusals and the results of actions.
pub mod console {
    /// A time zone without a name: the server's system one.
    pub const SYSTEM_CLOCK: &str = "du système";

    /// A page of several spaces whose clocks differ: which one its times read.
    pub fn clock_note(zone: &str) -> String {
        format!(
            "Les heures sont à l'heure commune ({zone}) : vos espaces n'ont pas tous le même fuseau horaire. Choisissez un espace dans « Espace affiché » pour lire les heures à son fuseau."
        )
    }

    pub const STAFF_SPACES_REQUIRED: &str =
        "Choisissez au moins un espace où ce compte travaille, ou « Tous les espaces ».";

    pub fn staff_spaces_set(login: &str) -> String {
        format!("Espaces du compte « {login} » enregistrés.")
    }
    pub const LOGIN_BAD: &str = "Identifiant ou mot de passe incorrect.";
    pub const LOGIN_REQUIRED: &str = "Connectez-vous pour continuer.";
    pub const LOGGED_OUT: &str = "Vous êtes déconnecté.";
    pub const OTHER_SPACE: &str =
        "Ce poste ou cette session est dans un espace où vous ne travaillez pas.";
    pub const FORBIDDEN: &str =
        "Cette page est réservée aux administrateurs. Demandez à un administrateur de l'EPN.";
    pub const CSRF: &str = "Action refusée : le formulaire a expiré ou ne vient pas de la console. \
         Rechargez la page et recommencez.";
    pub const NOT_FOUND: &str = "Page introuvable.";
    pub const UNAVAILABLE: &str = "La base de données est momentanément indisponible : rien n'a été fait. Réessayez dans un instant.";
    pub const INTERNAL: &str = "Erreur interne du serveur : rien n'a été fait.";
    pub const BAD_FORM: &str = "Formulaire incomplet ou mal formé.";
    pub const PASSWORD_TOO_SHORT: &str = "Le mot de passe doit avoir au moins 10 caractères.";
    pub const PASSWORD_TOO_LONG: &str = "Le mot de passe doit avoir au plus 256 caractères.";
    pub const PASSWORDS_DIFFER: &str = "Les deux mots de passe ne sont pas identiques.";
    pub const LOGIN_INVALID: &str =
        "L'identifiant doit avoir de 2 à 64 caractères : lettres, chiffres, point, tiret.";
    pub const NAME_REQUIRED: &str = "Indiquez le nom complet.";
    pub const ROLE_INVALID: &str = "Choisissez un rôle : administrateur ou animateur.";
    pub const MINUTES_INVALID: &str = "Indiquez un nombre de minutes entre 1 et 720.";
    pub const DURATION_REQUIRED: &str = "Choisissez une durée.";
    // « Ouvrir un atelier »: what each workstation is, now.
    pub const WORKSHOP_FREE: &str = "Libre";
    pub const WORKSHOP_OFFLINE: &str = "Non connecté";
    pub const WORKSHOP_BUSY: &str = "Session en cours";
    pub const WORKSHOP_OUT_OF_ORDER: &str = "Hors service";
    pub const WORKSHOP_AGENT_TOO_OLD: &str = "Agent à mettre à jour";
    pub const POSTE_NOT_FOUND: &str = "Ce poste n'existe plus.";
    pub const POWER_SCHEDULE_INVALID: &str = "Allumage avant l'ouverture, extinction après la fermeture : un nombre de minutes de 0 à 240, ou rien pour ne pas le faire.";
    pub const POWER_ALL_ACTION_REQUIRED: &str =
        "Choisissez d'allumer, d'éteindre ou de redémarrer les postes.";
    pub const DAY_INVALID: &str = "Date attendue au format AAAA-MM-JJ.";
    pub const STATUS_INVALID: &str = "Statut inconnu.";

    pub fn login_throttled(secs: u64) -> String {
        format!(
            "Trop d'essais : réessayez dans {}.",
            crate::domain::duration::format_duration(i64::try_from(secs).unwrap_or(i64::MAX))
        )
    }

    pub fn staff_exists(login: &str) -> String {
        format!("L'identifiant « {login} » est déjà pris.")
    }

    pub fn staff_created(login: &str) -> String {
        format!("Compte « {login} » créé.")
    }

    pub fn time_added(minutes: i64, poste: Option<&str>) -> String {
        format!(
            "{minutes} min ajoutées{}.",
            poste.map(|p| format!(" sur {p}")).unwrap_or_default()
        )
    }

    /// What a visitor asked for, on the dashboard.
    pub fn asked_minutes(minutes: Option<i64>) -> String {
        match minutes {
            Some(minutes) => format!("{minutes} min"),
            None => "durée à votre choix".to_owned(),
        }
    }

    pub fn request_accepted(minutes: i64, poste: Option<&str>) -> String {
        format!(
            "Demande acceptée : {minutes} min ajoutées{}.",
            poste.map(|p| format!(" sur {p}")).unwrap_or_default()
        )
    }

    pub fn request_refused(poste: Option<&str>) -> String {
        format!(
            "Demande refusée{} : le visiteur en est informé.",
            poste.map(|p| format!(" sur {p}")).unwrap_or_default()
        )
    }

    pub fn session_ended(poste: Option<&str>) -> String {
        match poste {
            Some(p) => format!("Session terminée sur {p}."),
            None => "Session terminée.".to_owned(),
        }
    }

    pub const CODE_CANCELLED: &str = "Code annulé : il ne pourra plus être utilisé.";

    pub fn message_sent(poste: &str, delivered: usize) -> String {
        if delivered > 0 {
            format!("Message envoyé à {poste}.")
        } else {
            format!("{poste} n'est pas connecté : le message n'a pas pu être affiché.")
        }
    }

    pub fn message_sent_all(reached: usize, offline: usize) -> String {
        let sent = match reached {
            0 => "Aucun poste n'est connecté : le message n'a été affiché nulle part.".to_owned(),
            1 => "Message envoyé au seul poste connecté.".to_owned(),
            n => format!("Message envoyé aux {n} postes connectés."),
        };
        match offline {
            0 => sent,
            n => format!("{sent} {n} poste(s) non connecté(s) ne l'ont pas reçu."),
        }
    }

    pub fn poste_out_of_order(poste: &str, out: bool) -> String {
        if out {
            format!("{poste} est marqué hors service : aucun code n'y sera accepté.")
        } else {
            format!("{poste} est de nouveau en service.")
        }
    }

    /// A staff action on a session that already ended (e.g. from a dashboard left open).
    pub fn stale_session(statut: &str) -> String {
        format!(
            "Cette session est déjà « {} » : rien n'a été fait. Le tableau de bord est à jour.",
            super::status_label(statut)
        )
    }

    pub const POSTE_NAME_INVALID: &str =
        "Le nom du poste est obligatoire (64 caractères au plus), l'emplacement 200 au plus.";
    pub const POSTE_RETIRED: &str =
        "Poste retiré : il disparaît des listes, son historique est conservé.";
    pub const POSTE_BUSY: &str =
        "Une session est en cours sur ce poste : terminez-la avant de retirer le poste.";

    pub fn poste_saved(poste: &str) -> String {
        format!("Poste « {poste} » enregistré.")
    }

    pub fn poste_moved(poste: &str, space: &str) -> String {
        format!("Le poste « {poste} » est maintenant dans l'espace « {space} ».")
    }

    pub fn space_saved(space: &str) -> String {
        format!("Espace « {space} » enregistré.")
    }

    pub fn space_deleted(space: &str) -> String {
        format!("Espace « {space} » supprimé.")
    }

    pub fn poste_approved(poste: &str, space: Option<&str>) -> String {
        match space {
            Some(space) => format!(
                "Enrôlement de « {poste} » validé dans l'espace « {space} » : son agent va recevoir son secret."
            ),
            None => format!("Enrôlement de « {poste} » validé : son agent va recevoir son secret."),
        }
    }

    pub fn approval_space_missing(poste: &str) -> String {
        format!(
            "Choisissez l'espace où servira « {poste} » avant de valider son enrôlement : rien n'a été validé."
        )
    }

    pub const FOLLOW_COMMON_UNCONFIRMED: &str = "Cochez « Oui, oublier les réglages propres à cet espace » pour confirmer : rien n'a été changé.";

    pub const THRESHOLD_INVALID: &str =
        "Les avertissements se donnent en minutes (1 à 60), ou en secondes suivies de « s ».";
    pub const THRESHOLD_ORDER: &str =
        "Le premier avertissement doit venir avant le second (plus de temps restant).";
    pub const VALIDITY_INVALID: &str =
        "Validité des codes : choisissez « fin de journée » ou une durée (par ex. 4h).";
    pub const SITE_NAME_INVALID: &str =
        "Le nom de l'espace est obligatoire (100 caractères au plus).";
    pub const CODE_LENGTH_INVALID: &str = "Les codes ont de 4 à 16 caractères.";
    pub const SETTINGS_SAVED: &str = "Réglages enregistrés : ils s'appliquent dès maintenant.";
    /// « Réglages de : … », the settings every space without its own follows.
    pub const SETTINGS_COMMON: &str = "Communs à tous les espaces";

    pub fn settings_follow_common(space: &str) -> String {
        format!("L'espace « {space} » suit de nouveau les réglages communs.")
    }

    pub fn timezone_invalid(typed: &str) -> String {
        if typed.is_empty() {
            "Choisissez le fuseau horaire de l'espace (par ex. Indian/Reunion).".to_owned()
        } else {
            format!(
                "« {typed} » n'est pas un fuseau horaire connu : choisissez-en un dans la liste (par ex. Indian/Reunion)."
            )
        }
    }

    pub fn hours_invalid(day: &str) -> String {
        format!(
            "{day} : indiquez l'ouverture et la fermeture (HH:MM), la fermeture après l'ouverture, ou laissez les deux vides (fermé)."
        )
    }

    // « Jours particuliers » (public holidays, closures, exceptional openings).
    pub const SPECIAL_CLOSED: &str = "Fermé toute la journée";
    pub const SPECIAL_DATE_INVALID: &str = "Indiquez la date de ce jour (JJ/MM/AAAA).";
    pub const SPECIAL_DATE_PAST: &str = "Cette date est déjà passée : un jour particulier se prévoit pour aujourd'hui ou plus tard.";
    pub const SPECIAL_LABEL_INVALID: &str =
        "Donnez un nom à ce jour (60 caractères au plus), par exemple « Noël » ou « Travaux ».";
    pub const SPECIAL_KIND_MISSING: &str =
        "Choisissez : fermé toute la journée, ou ouvert avec des horaires particuliers.";
    pub const SPECIAL_HOURS_INVALID: &str =
        "Indiquez l'ouverture et la fermeture de ce jour (HH:MM), la fermeture après l'ouverture.";
    pub const SPECIAL_DAY_NOT_FOUND: &str = "Ce jour particulier n'existe plus (déjà retiré ?).";
    pub const HOLIDAYS_ALREADY_THERE: &str =
        "Les jours fériés des douze prochains mois sont déjà dans la liste.";

    pub fn special_date_taken(date: &str, label: &str) -> String {
        format!("Le {date} a déjà des horaires particuliers (« {label} ») : retirez-les d'abord.")
    }

    pub fn special_day_added(date: &str, label: &str) -> String {
        format!("Jour particulier ajouté : {date}, « {label} ».")
    }

    pub fn special_day_removed(date: &str, label: &str) -> String {
        format!(
            "Jour particulier retiré : {date}, « {label} ». Ce jour suit de nouveau les horaires de la semaine."
        )
    }

    pub fn holidays_added(count: usize) -> String {
        if count == 1 {
            "1 jour férié ajouté, fermé toute la journée : retirez-le si l'espace ouvre ce jour-là."
                .to_owned()
        } else {
            format!(
                "{count} jours fériés ajoutés, fermés toute la journée : retirez ceux où l'espace ouvre."
            )
        }
    }

    pub fn break_invalid(day: &str) -> String {
        format!(
            "{day} : une pause a un début et une reprise (HH:MM), entre l'ouverture et la fermeture ; laissez les deux vides s'il n'y en a pas."
        )
    }

    pub const CATEGORY_NAME_INVALID: &str =
        "Le nom de la catégorie est obligatoire (64 caractères au plus).";
    pub const CATEGORY_LIMIT_INVALID: &str =
        "Les limites se donnent en minutes (un nombre entier), ou restent vides (sans limite).";
    pub const CATEGORY_NOT_FOUND: &str = "Cette catégorie n'existe plus.";
    pub const CATEGORY_DELETED: &str =
        "Catégorie supprimée : ses visiteurs n'ont plus de catégorie.";

    pub fn category_saved(nom: &str) -> String {
        format!("Catégorie « {nom} » enregistrée.")
    }

    pub fn category_exists(nom: &str) -> String {
        format!("Une catégorie « {nom} » existe déjà.")
    }

    pub const VISITOR_NAME_INVALID: &str = "Indiquez le nom du visiteur (100 caractères au plus).";
    pub const VISITOR_CARD_INVALID: &str = "Numéro de carte trop long (64 caractères au plus).";
    pub const VISITOR_EMAIL_INVALID: &str = "Adresse e-mail invalide (par ex. nom@exemple.fr).";
    pub const VISITOR_NOTES_INVALID: &str = "Notes trop longues (1000 caractères au plus).";
    pub const ERASE_UNCONFIRMED: &str =
        "Cochez la case de confirmation pour effacer les données du visiteur.";
    pub const NO_CATEGORY: &str = "Sans catégorie : pas de limite de temps";

    /// A card number is one visitor's: `owner` is the visitor who has it, when found.
    pub fn visitor_card_taken(card: &str, owner: Option<&str>) -> String {
        match owner {
            Some(owner) => format!(
                "La carte « {card} » est déjà celle de {owner} : vérifiez le numéro, ou cherchez ce visiteur dans la liste."
            ),
            None => format!(
                "La carte « {card} » est déjà celle d'un autre visiteur : vérifiez le numéro."
            ),
        }
    }

    pub fn visitor_saved(nom: &str) -> String {
        format!("Visiteur « {nom} » enregistré.")
    }

    pub fn visitor_erased(sessions: u64) -> String {
        format!(
            "Données du visiteur effacées : sa fiche est supprimée et {sessions} session(s) rendue(s) anonyme(s)."
        )
    }

    /// An event kind as staff read it.
    pub fn event_kind(kind: poste_store::EventKind) -> &'static str {
        match kind {
            poste_store::EventKind::SessionCreated => "Code créé",
            poste_store::EventKind::SessionStarted => "Session commencée",
            poste_store::EventKind::TimeAdded => "Temps ajouté",
            poste_store::EventKind::SessionEnded => "Session terminée",
            poste_store::EventKind::CodeCancelled => "Code annulé",
            poste_store::EventKind::WarningSent => "Avertissement",
            poste_store::EventKind::PosteCreated => "Poste ajouté",
            poste_store::EventKind::PosteSeen => "Poste vu",
            poste_store::EventKind::PosteUpdated => "Poste modifié",
            poste_store::EventKind::PosteRetired => "Poste retiré",
            poste_store::EventKind::PosteServiceChanged => "Poste en/hors service",
            poste_store::EventKind::MessageSent => "Message envoyé",
            poste_store::EventKind::EnrollmentCodeCreated => "Code d'enrôlement créé",
            poste_store::EventKind::EnrollmentRequested => "Enrôlement demandé",
            poste_store::EventKind::EnrollmentApproved => "Enrôlement validé",
            poste_store::EventKind::PosteEnrolled => "Poste enrôlé",
            poste_store::EventKind::EnrollmentReset => "Enrôlement réinitialisé",
            poste_store::EventKind::TokenCreated => "Jeton d'API créé",
            poste_store::EventKind::TokenRevoked => "Jeton d'API révoqué",
            poste_store::EventKind::StaffCreated => "Compte créé",
            poste_store::EventKind::StaffLogin => "Connexion à la console",
            poste_store::EventKind::StaffLogout => "Déconnexion",
            poste_store::EventKind::StaffPasswordChanged => "Mot de passe changé",
            poste_store::EventKind::CategoryChanged => "Catégorie modifiée",
            poste_store::EventKind::VisitorCreated => "Visiteur inscrit",
            poste_store::EventKind::VisitorUpdated => "Fiche visiteur modifiée",
            poste_store::EventKind::VisitorErased => "Données d'un visiteur effacées",
            poste_store::EventKind::SettingsChanged => "Réglages modifiés",
            poste_store::EventKind::RetentionPurge => "Registre purgé (conservation)",
            poste_store::EventKind::ReportSent => "Rapport mensuel envoyé",
            poste_store::EventKind::ReportFailed => "Rapport mensuel non envoyé",
            poste_store::EventKind::PowerOrdered => "Extinction ou redémarrage demandé",
            poste_store::EventKind::WakeSent => "Allumage à distance",
            poste_store::EventKind::RoomLocked => "Poste mis en pause (atelier)",
            poste_store::EventKind::SpaceChanged => "Espace modifié",
            poste_store::EventKind::TimeRequested => "Temps demandé par le visiteur",
            poste_store::EventKind::TimeRequestAnswered => "Demande de temps traitée",
            poste_store::EventKind::PosteIncident => "Incident sur un poste",
            poste_store::EventKind::StaffLoginFailed => "Connexion refusée",
            poste_store::EventKind::StaffLoginThrottled => "Connexion retenue (trop d'essais)",
            poste_store::EventKind::StaffUnblocked => "Connexions débloquées",
            poste_store::EventKind::StaffDisabled => "Compte désactivé",
            poste_store::EventKind::StaffEnabled => "Compte réactivé",
            poste_store::EventKind::StaffDeleted => "Compte supprimé",
            poste_store::EventKind::StaffSpacesChanged => "Espaces d'un compte",
        }
    }

    /// The « Détail » of an event as staff read it (history page and its CSV export): the
    /// codes the store writes (`+900`, `temps_expire`, `1`, `hors_service`, …) in words. Names
    /// and texts typed by people are kept as they are. The match lists every kind, so a new
    /// kind must say here how its detail reads.
    pub fn event_detail(kind: poste_store::EventKind, detail: &str) -> String {
        event_detail_named(kind, detail, &|_| None)
    }

    /// [`event_detail`], a space named by `space_name` (its id: a space's own report).
    pub fn event_detail_named(
        kind: poste_store::EventKind,
        detail: &str,
        space_name: &dyn Fn(i64) -> Option<String>,
    ) -> String {
        use poste_store::{EventKind, RefusedLogin};
        match kind {
            EventKind::TimeAdded => match detail.strip_prefix('+').map(str::parse::<i64>) {
                Some(Ok(secs)) => format!("+{}", super::format_duration(secs)),
                _ if detail == "fermeture" => "Fin ramenée à la fermeture de l'espace".to_owned(),
                _ if detail == "extinction" => "Fin avancée : le poste va être éteint".to_owned(),
                _ if detail == "redemarrage" => {
                    "Fin avancée : le poste va être redémarré".to_owned()
                }
                _ => detail.to_owned(),
            },
            EventKind::SessionEnded => super::end_reason_label(detail).unwrap_or(detail).to_owned(),
            // With the threshold in force when it was sent; events written before it was
            // recorded have the level only.
            EventKind::WarningSent => match poste_store::Warning::parse(detail) {
                Some(warning) => warning_label(warning),
                None => detail.to_owned(),
            },
            EventKind::EnrollmentRequested => match detail {
                "code_enrolement" => "Avec un code d'enrôlement".to_owned(),
                "jeton_installation" => "Avec le jeton d'installation du site".to_owned(),
                _ => detail.to_owned(),
            },
            EventKind::PosteServiceChanged => match detail {
                "hors_service" => "Mis hors service".to_owned(),
                "en_service" => "Remis en service".to_owned(),
                _ => detail.to_owned(),
            },
            EventKind::StaffCreated => match detail.rsplit_once(" (") {
                Some((login, "admin)")) => format!("Compte « {login} », administrateur"),
                Some((login, "animateur)")) => format!("Compte « {login} », animateur"),
                _ => detail.to_owned(),
            },
            EventKind::StaffPasswordChanged => format!("Compte « {detail} »"),
            EventKind::SettingsChanged => detail
                .split(", ")
                .map(setting_label)
                .collect::<Vec<_>>()
                .join(", "),
            EventKind::TimeRequested => match detail.parse::<i64>() {
                Ok(minutes) => format!("{} demandées", super::format_duration(minutes * 60)),
                Err(_) => detail.to_owned(),
            },
            EventKind::TimeRequestAnswered => {
                match detail.strip_prefix("acceptee +").map(str::parse::<i64>) {
                    Some(Ok(minutes)) => {
                        format!("Acceptée : +{}", super::format_duration(minutes * 60))
                    }
                    _ if detail == "refusee" => "Refusée".to_owned(),
                    _ => detail.to_owned(),
                }
            }
            EventKind::PosteIncident => {
                let (nature, rest) = detail.split_once(" : ").unwrap_or((detail, ""));
                let nature = match nature {
                    "restauration_echouee" => "Le profil du visiteur n'a pas pu être restauré",
                    "restauration_retablie" => "Le profil du visiteur est de nouveau restauré",
                    "inactivite" => "Session fermée pour inactivité",
                    other => other,
                };
                if rest.is_empty() {
                    nature.to_owned()
                } else {
                    format!("{nature} : {rest}")
                }
            }
            EventKind::StaffLoginFailed | EventKind::StaffLoginThrottled => {
                match RefusedLogin::parse(kind, detail) {
                    Some(refused) => refused_login(refused),
                    None => detail.to_owned(),
                }
            }
            EventKind::StaffUnblocked => format!("Compte « {detail} » : les attentes sont levées"),
            EventKind::StaffDisabled => {
                format!("Compte « {detail} » : désactivé, ses sessions de la console fermées")
            }
            EventKind::StaffEnabled => format!("Compte « {detail} » : réactivé"),
            EventKind::StaffDeleted => format!(
                "Compte « {detail} » : supprimé (son historique est gardé, son identifiant reste réservé)"
            ),
            EventKind::StaffSpacesChanged => match detail.split_once(" : ") {
                Some((login, "*")) => format!("Compte « {login} » : tous les espaces"),
                Some((login, spaces)) => format!("Compte « {login} » : {spaces}"),
                None => detail.to_owned(),
            },
            // Names, addresses and texts written by people or in French already.
            EventKind::SessionCreated
            | EventKind::SessionStarted
            | EventKind::CodeCancelled
            | EventKind::PosteCreated
            | EventKind::PosteSeen
            | EventKind::PosteUpdated
            | EventKind::PosteRetired
            | EventKind::MessageSent
            | EventKind::EnrollmentCodeCreated
            | EventKind::EnrollmentApproved
            | EventKind::PosteEnrolled
            | EventKind::EnrollmentReset
            | EventKind::TokenCreated
            | EventKind::TokenRevoked
            | EventKind::StaffLogin
            | EventKind::StaffLogout
            | EventKind::CategoryChanged
            | EventKind::SpaceChanged
            | EventKind::VisitorCreated
            | EventKind::VisitorUpdated
            | EventKind::VisitorErased
            | EventKind::RetentionPurge => detail.to_owned(),
            EventKind::PowerOrdered => power_order_detail(detail),
            EventKind::WakeSent => format!("Paquets Wake-on-LAN envoyés à {detail}"),
            EventKind::RoomLocked => match detail.strip_prefix("verrouille : ") {
                Some(words) => format!("En pause : « {words} »"),
                None => "Pause levée".to_owned(),
            },
            EventKind::ReportSent => report_month(detail, space_name),
            EventKind::ReportFailed => match detail.split_once(" : ") {
                Some((month, why)) => format!("{} : {why}", report_month(month, space_name)),
                None => report_month(detail, space_name),
            },
        }
    }

    fn power_order_detail(detail: &str) -> String {
        let (action, cut) = match detail.strip_suffix(" ecourtee") {
            Some(action) => (action, true),
            None => (detail, false),
        };
        let action = match action {
            "extinction" => "Extinction",
            "redemarrage" => "Redémarrage",
            other => return other.to_owned(),
        };
        if cut {
            format!("{action}, la session en cours écourtée")
        } else {
            format!("{action}, à la fin de la session en cours s'il y en a une")
        }
    }

    fn warning_label(warning: poste_store::Warning) -> String {
        let before_end = warning.before_end_secs.map(super::format_duration);
        match (warning.level, before_end) {
            (1, Some(before)) => format!("Avertissement {before} avant la fin"),
            (_, Some(before)) => format!("Dernier avertissement {before} avant la fin"),
            (1, None) => "Premier avertissement".to_owned(),
            (_, None) => "Dernier avertissement".to_owned(),
        }
    }

    fn refused_login(refused: poste_store::RefusedLogin) -> String {
        use poste_store::RefusedLogin;
        match refused {
            RefusedLogin::WrongPassword(login) => {
                format!("Compte « {login} » : mot de passe incorrect")
            }
            RefusedLogin::Disabled(login) => format!("Compte « {login} » : compte désactivé"),
            RefusedLogin::UnknownLogin => {
                "Identifiant inconnu (ce qui a été tapé n'est pas gardé)".to_owned()
            }
            RefusedLogin::Throttled { login, wait_secs } => {
                let wait = super::format_duration(i64::try_from(wait_secs).unwrap_or(i64::MAX));
                match login {
                    Some(login) => format!(
                        "Compte « {login} » : trop d'essais depuis cette adresse, attente de {wait}"
                    ),
                    None => format!(
                        "Identifiants inconnus ou comptes désactivés : trop d'essais depuis cette adresse, attente de {wait}"
                    ),
                }
            }
        }
    }

    /// A setting's key (`settings.cle`) as « Réglages » names it.
    /// `Rapport de novembre 2026` for `2026-11` (as stored in the event log).
    /// `2026-11`, or `2026-11@3` for a space's own report (named when `space_name` knows it).
    fn report_month(stored: &str, space_name: &dyn Fn(i64) -> Option<String>) -> String {
        if let Some((month, space)) = stored.split_once('@') {
            let month = report_month(month, space_name);
            return match space.parse().ok().and_then(space_name) {
                Some(name) => format!("{month} (espace « {name} »)"),
                None => format!("{month} (espace n° {space})"),
            };
        }
        let parsed = stored
            .split_once('-')
            .and_then(|(year, month)| Some((year.parse().ok()?, month.parse().ok()?)))
            .filter(|(_, month): &(i16, i8)| (1..=12).contains(month));
        match parsed {
            Some((year, month_number)) => format!("Rapport de {}", month(month_number, year).1),
            None => stored.to_owned(),
        }
    }

    fn setting_label(key: &str) -> &str {
        use crate::settings::setting_keys as k;
        match key {
            k::SITE_NAME => "Nom de l'espace",
            k::WARNING_SECS => "Premier avertissement",
            k::CRITICAL_SECS => "Dernier avertissement",
            k::CODE_LENGTH => "Longueur des codes",
            k::CODE_VALIDITY => "Validité des codes",
            k::OPENING_HOURS => "Horaires d'ouverture",
            k::REPORT_RECIPIENTS => "Destinataires du rapport mensuel",
            k::SPACE_REPORT_RECIPIENTS => "Destinataires du rapport de l'espace",
            k::TIMEZONE => "Fuseau horaire",
            k::SPECIAL_DAYS => "Jours particuliers",
            k::POWER_WAKE_BEFORE => "Allumage avant l'ouverture",
            k::POWER_OFF_AFTER => "Extinction après la fermeture",
            other => other,
        }
    }

    /// A pair waiting after failed logins, on the « Équipe » page.
    pub fn login_blocked(address: &str, failures: u32, remaining_secs: u64) -> String {
        format!(
            "{failures} essais refusés depuis {address} : attente encore {}",
            crate::domain::duration::format_duration(
                i64::try_from(remaining_secs).unwrap_or(i64::MAX)
            )
        )
    }

    pub fn staff_unblocked(login: &str) -> String {
        format!("Compte « {login} » débloqué : il peut se connecter de nouveau, de partout.")
    }

    pub fn staff_not_found(login: &str) -> String {
        format!("Aucun compte « {login} ».")
    }

    /// An account changed from « Équipe » no longer exists (deleted meanwhile).
    pub const STAFF_GONE: &str =
        "Ce compte n'existe plus : il a peut-être été supprimé entre-temps. La liste est à jour.";

    /// What an admin did to an account, as « Équipe » and the command line confirm it.
    pub fn staff_changed(change: poste_store::StaffChange, login: &str) -> String {
        match change {
            poste_store::StaffChange::Disable => staff_disabled(login),
            poste_store::StaffChange::Enable => staff_enabled(login),
            poste_store::StaffChange::Delete => staff_deleted(login),
        }
    }

    fn staff_disabled(login: &str) -> String {
        format!(
            "Compte « {login} » désactivé : il ne peut plus se connecter, et ses sessions ouvertes de la console sont fermées."
        )
    }

    fn staff_enabled(login: &str) -> String {
        format!("Compte « {login} » réactivé : il peut se connecter de nouveau.")
    }

    fn staff_deleted(login: &str) -> String {
        format!(
            "Compte « {login} » supprimé. L'historique garde ce qu'il a fait, sous son identifiant, qui ne sera pas redonné."
        )
    }

    pub fn staff_password_reset(login: &str) -> String {
        format!(
            "Nouveau mot de passe de « {login} » enregistré : ses sessions ouvertes de la console sont fermées. Donnez-lui ce mot de passe de vive voix."
        )
    }

    pub fn staff_password_refused(login: &str, why: &str) -> String {
        format!("Mot de passe de « {login} » non changé : {why}")
    }

    pub fn staff_already_disabled(login: &str) -> String {
        format!("Le compte « {login} » est déjà désactivé (quelqu'un l'a fait entre-temps).")
    }

    pub fn staff_already_enabled(login: &str) -> String {
        format!("Le compte « {login} » est déjà actif (quelqu'un l'a réactivé entre-temps).")
    }

    pub fn staff_last_admin(login: &str) -> String {
        format!(
            "« {login} » est le dernier administrateur actif : sans lui, plus personne ne pourrait gérer l'équipe. Créez ou réactivez d'abord un autre compte administrateur."
        )
    }

    pub const STAFF_NOT_YOURSELF: &str = "Vous ne pouvez pas désactiver ni supprimer votre propre compte : demandez-le à un autre administrateur.";

    pub fn staff_login_of_deleted(login: &str) -> String {
        format!(
            "L'identifiant « {login} » était celui d'un compte supprimé : il reste réservé pour que l'historique ne mélange pas deux personnes. Choisissez-en un autre."
        )
    }

    pub fn cli_delete_prompt(login: &str) -> String {
        format!(
            "Supprimer le compte « {login} » ? L'historique garde ce qu'il a fait. Tapez son identifiant pour confirmer : "
        )
    }

    pub fn cli_delete_needs_yes(login: &str) -> String {
        format!("Compte « {login} » non supprimé : sans terminal pour confirmer, ajoutez --oui.")
    }

    pub const CLI_DELETE_CANCELLED: &str = "Suppression annulée : rien n'a changé.";

    pub const DELETE_UNCONFIRMED: &str = "Cochez la case de confirmation pour supprimer le compte.";

    /// Who did it, as staff read it: `animateur:marie` → `marie`, `poste:P3` → `poste P3`.
    pub fn actor(actor: &str) -> String {
        match actor.split_once(':') {
            Some(("animateur", login)) => login.to_owned(),
            Some(("poste", name)) => format!("poste {name}"),
            Some(("api", name)) => format!("API ({name})"),
            _ if actor == "systeme" => "serveur".to_owned(),
            _ if actor == "cli" => "ligne de commande".to_owned(),
            _ if actor == poste_store::ANONYMOUS => "inconnu".to_owned(),
            _ => actor.to_owned(),
        }
    }

    /// Why a session ended, as staff read it.
    pub fn end_reason(reason: &str) -> &'static str {
        super::end_reason_label(reason).unwrap_or("Autre")
    }

    /// Where a workstation stands in enrollment, as staff read it.
    pub fn enrollment(enrollment: poste_store::Enrollment) -> &'static str {
        match enrollment {
            poste_store::Enrollment::Aucun => "Non enrôlé",
            poste_store::Enrollment::EnAttente => "Demande à valider",
            poste_store::Enrollment::Approuve => "Validé, en attente de l'agent",
            poste_store::Enrollment::Enrole => "Enrôlé",
        }
    }

    /// Weekdays, Monday first.
    pub const DAY_NAMES: [&str; 7] = [
        "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche",
    ];

    /// The reasons staff may give when ending a session, as (value, label).
    pub const END_REASON_REQUIRED: &str =
        "Choisissez la raison de la fin de session : le visiteur la lit sur son écran.";
    /// The reasons staff choose from to end a session (none is preselected: the visitor reads
    /// it, and « L'espace ferme » said by mistake sends people home).
    pub const END_REASONS: &[(&str, &str)] = &[
        ("fermeture", "Fermeture de l'espace"),
        ("demande_visiteur", "À la demande du visiteur"),
        ("comportement", "Usage non conforme à la charte"),
        ("autre", "Autre raison"),
    ];

    /// What the workstation shows when staff end a session with a reason.
    /// The confirmation of codes made in the console, with the duration each gives and, for
    /// one, its code: a whole sentence (the command line's « Session créée : » is followed by
    /// the codes, this banner by nothing).
    pub fn sessions_created_for(count: usize, duration: &str, code: &str) -> String {
        if count > 1 {
            format!("{count} sessions créées ({duration} chacune) : leurs tickets sont ci-dessous.")
        } else {
            format!("Session créée ({duration}) : code {code}, son ticket est ci-dessous.")
        }
    }

    /// A preset checked and another duration typed: which one did staff mean?
    pub fn durations_disagree(preset: &str, typed: &str) -> String {
        format!(
            "Deux durées sont indiquées : « {preset} » est coché et « {typed} » est tapé dans « Autre durée ». Cochez « Autre durée » pour donner {typed}, ou videz ce champ pour donner {preset}."
        )
    }

    pub fn end_message_for(reason: &str) -> &'static str {
        match reason {
            "fermeture" => "L'espace ferme : votre session a été terminée par un animateur",
            "demande_visiteur" => "Votre session a été terminée à votre demande",
            "comportement" => {
                "Votre session a été terminée par un animateur (usage non conforme à la charte)"
            }
            _ => "Votre session a été terminée par un animateur",
        }
    }

    // ----- statistics --------------------------------------------------------------------------

    /// In place of a chart with nothing to draw.
    pub const STATS_EMPTY: &str = "Aucune donnée pour cette période.";
    pub const STATS_SESSIONS: &str = "Sessions commencées";
    pub const STATS_HOURS: &str = "Heures d'utilisation";
    pub const STATS_BY_POSTE: &str = "Occupation par poste (heures)";
    pub const STATS_OCCUPANCY: &str = "Taux d'occupation par poste (% des heures d'ouverture)";
    pub const STATS_BY_CATEGORY: &str = "Utilisation par catégorie de visiteurs (heures)";
    pub const STATS_BUSY_HOURS: &str = "Heures d'affluence (sessions commencées, par heure)";
    pub const STATS_WORKSHOPS: &str = "Ateliers (participants, un par poste)";

    /// A workshop's line: its name, and how many times it was held.
    pub fn stats_workshop(name: &str, held: usize) -> String {
        format!("{name} ({held} séance(s))")
    }
    pub const STATS_NO_CATEGORY: &str = "Sans catégorie";
    /// The first cells of the CSV export's summary rows.
    pub const STATS_CSV_PERIOD: &str = "Période";
    pub const STATS_CSV_SPACE: &str = "Espace";
    pub const STATS_CSV_TOTAL: &str = "Total";
    pub const STATS_CSV_SESSIONS: &str = "Sessions";
    /// A value too small to round to anything but zero, which would read as « nothing ».
    pub const UNDER_A_MINUTE: &str = "< 1 min";
    pub const UNDER_ONE_PERCENT: &str = "< 1 %";
    /// The periods of the statistics page, as (value, label).
    pub const STATS_PERIODS: &[(&str, &str)] = &[
        ("jour", "30 derniers jours"),
        ("semaine", "12 dernières semaines"),
        ("mois", "12 derniers mois"),
    ];
    /// Months as an axis shows them (`nov. 2026`) and as a table names them (`novembre 2026`).
    const MONTHS_SHORT: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];

    /// A month under a bar (`nov. 2026`) and in its table (`novembre 2026`); `month` is 1–12.
    pub fn month(month: i8, year: i16) -> (String, String) {
        let index = usize::try_from(month - 1).unwrap_or(0).min(11);
        (
            format!("{} {year}", MONTHS_SHORT[index]),
            format!("{} {year}", MONTHS[index]),
        )
    }

    /// A week of the statistics, by its Monday (`24/11/2026`).
    pub fn week_of(monday: &str) -> String {
        format!("semaine du {monday}")
    }

    /// The period a statistics page covers: `30 derniers jours, du 26/10/2026 au 24/11/2026`.
    pub fn stats_period(label: &str, from: &str, to: &str) -> String {
        format!("{label}, du {from} au {to}")
    }

    /// Values of the charts: `1,5 h`, `45 min`, `38 %`, an hour of the day `14 h`.
    pub fn hours_value(number: &str) -> String {
        format!("{number} h")
    }

    pub fn minutes_value(minutes: f64) -> String {
        format!("{minutes:.0} min")
    }

    pub fn percent_value(percent: f64) -> String {
        format!("{percent:.0} %")
    }

    pub fn hour_of_day(hour: usize) -> String {
        format!("{hour} h")
    }

    /// The unit column of the statistics' CSV export, for counts, hours and rates.
    pub const CSV_UNIT_SESSIONS: &str = "sessions";
    pub const CSV_UNIT_HOURS: &str = "h";
    pub const CSV_UNIT_PERCENT: &str = "%";

    /// An address of the monthly report's recipients, refused in « Réglages ».
    pub fn recipient_invalid(typed: &str) -> String {
        format!("Destinataires du rapport mensuel : « {typed} » n'est pas une adresse e-mail.")
    }

    /// A month typed in a link of the monthly report, refused.
    pub const MONTH_INVALID: &str =
        "Ce mois n'existe pas : écrivez-le sous la forme AAAA-MM, par exemple 2026-11.";
    pub const MONTH_NOT_BEGUN: &str =
        "Ce mois n'a pas encore commencé : choisissez un mois passé ou le mois en cours.";

    /// What a printable page of statistics is, after the space's name.
    pub const STATS_HEADING: &str = "Statistiques";
    pub const MONTH_REPORT_HEADING: &str = "Rapport mensuel";

    /// The period of the monthly report's printable page.
    pub fn month_report_period(title: &str, dates: &str) -> String {
        format!("{title}, {dates}")
    }

    /// When the printable statistics were made.
    pub fn printed_on(at: &str) -> String {
        format!("Édité le {at}")
    }
}

/// The monthly report: its PDF pages and the mail that carries it.
pub mod report {
    /// `Rapport mensuel — novembre 2026`: the PDF's heading and title.
    pub fn title(month: &str) -> String {
        format!("Rapport mensuel — {month}")
    }

    /// `du 01/11/2026 au 30/11/2026`.
    pub fn dates(first: &str, last: &str) -> String {
        format!("du {first} au {last}")
    }

    /// The attachment's file name, from the month as links write it (`2026-11`).
    pub fn file_name(month: &str) -> String {
        format!("rapport-{month}.pdf")
    }

    pub const VISITORS_BY_CATEGORY: &str = "Visiteurs inscrits venus, par catégorie";
    pub const FIGURE_SESSIONS: &str = "sessions";
    pub const FIGURE_HOURS: &str = "d'utilisation des postes";
    pub const FIGURE_OCCUPANCY: &str = "taux d'occupation moyen";
    /// A figure that cannot be computed (no workstation, no opening hour).
    pub const NO_FIGURE: &str = "—";

    /// At the foot of each page.
    pub fn footer(site: &str, month: &str, printed_on: &str) -> String {
        format!("{site} · rapport de {month} · {printed_on}")
    }

    pub fn page_of(page: usize, count: usize) -> String {
        format!("Page {page} / {count}")
    }

    /// The mail's subject: `EPN du Port : rapport mensuel de novembre 2026`.
    pub fn mail_subject(site: &str, month: &str) -> String {
        format!("{site} : rapport mensuel de {month}")
    }

    pub fn mail_body(site: &str, month: &str) -> String {
        format!(
            "Bonjour,\n\nVoici le rapport d'utilisation des postes publics de {site} pour {month} \
             (sessions, heures d'utilisation, occupation des postes, catégories de visiteurs, \
             heures d'affluence), en pièce jointe au format PDF.\n\n\
             Ce message est envoyé par le serveur des postes publics ; les destinataires se \
             règlent dans la console, page « Réglages ».\n"
        )
    }

    /// The button of « Statistiques ».
    pub fn send_button(month: &str) -> String {
        format!("Envoyer le rapport de {month} par e-mail")
    }

    /// After a send on demand.
    pub fn sent(month: &str, recipients: usize) -> String {
        if recipients == 1 {
            format!("Le rapport de {month} a été envoyé à 1 destinataire.")
        } else {
            format!("Le rapport de {month} a été envoyé à {recipients} destinataires.")
        }
    }

    pub fn not_sent(month: &str) -> String {
        format!(
            "Le rapport de {month} n'a pas pu être envoyé : le serveur d'e-mail n'a pas répondu \
             ou a refusé le message. Réessayez plus tard ; si cela se reproduit, prévenez le \
             service informatique (le détail est dans le journal du serveur et dans « Historique »)."
        )
    }

    pub const NO_MAILER: &str = "L'envoi par e-mail n'est pas configuré sur ce serveur : le \
        service informatique doit régler le serveur d'e-mail (section [mail] de la configuration).";
    pub const NO_RECIPIENT: &str = "Aucun destinataire du rapport mensuel : un administrateur \
        les règle dans « Réglages ».";
}

#[cfg(test)]
mod tests {
    use poste_store::{EventKind, RefusedLogin};

    use super::console::{event_detail, event_detail_named};

    #[test]
    fn refused_logins_read_in_french_in_the_history() {
        let cases = [
            (
                RefusedLogin::WrongPassword("marie".into()),
                "Compte « marie » : mot de passe incorrect",
            ),
            (
                RefusedLogin::Disabled("paul".into()),
                "Compte « paul » : compte désactivé",
            ),
            (
                RefusedLogin::UnknownLogin,
                "Identifiant inconnu (ce qui a été tapé n'est pas gardé)",
            ),
            (
                RefusedLogin::Throttled {
                    login: Some("marie".into()),
                    wait_secs: 80,
                },
                "Compte « marie » : trop d'essais depuis cette adresse, attente de 1 min 20 s",
            ),
            (
                RefusedLogin::Throttled {
                    login: None,
                    wait_secs: 40,
                },
                "Identifiants inconnus ou comptes désactivés : trop d'essais depuis cette adresse, attente de 40 s",
            ),
        ];
        for (refused, french) in cases {
            assert_eq!(event_detail(refused.kind(), &refused.detail()), french);
        }
        assert_eq!(
            event_detail(EventKind::StaffUnblocked, "marie"),
            "Compte « marie » : les attentes sont levées"
        );
    }

    /// Every kind the store writes, with a detail as the store writes it and how staff read
    /// it. A kind missing here fails the test: say how its detail reads first.
    #[test]
    fn every_event_kind_reads_in_french_in_the_history() {
        use EventKind as K;
        let cases: &[(EventKind, &str, &str)] = &[
            (K::SessionCreated, "", ""),
            (K::SessionStarted, "", ""),
            (K::TimeAdded, "+900", "+15 min"),
            (K::TimeAdded, "+5400", "+1 h 30 min"),
            (
                K::TimeAdded,
                "extinction",
                "Fin avancée : le poste va être éteint",
            ),
            (
                K::TimeAdded,
                "fermeture",
                "Fin ramenée à la fermeture de l'espace",
            ),
            (K::SessionEnded, "temps_expire", "Temps écoulé"),
            (
                K::SessionEnded,
                "termine_par_animateur",
                "Terminée par un animateur",
            ),
            (
                K::SessionEnded,
                "termine_par_visiteur",
                "Terminée par le visiteur",
            ),
            (K::SessionEnded, "autre", "Autre"),
            (K::CodeCancelled, "", ""),
            (K::WarningSent, "1:300", "Avertissement 5 min avant la fin"),
            (
                K::WarningSent,
                "2:60",
                "Dernier avertissement 1 min avant la fin",
            ),
            // Written before the threshold was recorded.
            (K::WarningSent, "1", "Premier avertissement"),
            (K::WarningSent, "2", "Dernier avertissement"),
            (K::PosteCreated, "P3", "P3"),
            (K::PosteSeen, "P3", "P3"),
            (K::EnrollmentCodeCreated, "P3", "P3"),
            (
                K::EnrollmentRequested,
                "code_enrolement",
                "Avec un code d'enrôlement",
            ),
            (
                K::EnrollmentRequested,
                "jeton_installation",
                "Avec le jeton d'installation du site",
            ),
            (K::EnrollmentApproved, "P3", "P3"),
            (K::PosteEnrolled, "P3", "P3"),
            (K::EnrollmentReset, "P3", "P3"),
            (K::TokenCreated, "inventaire", "inventaire"),
            (K::TokenRevoked, "inventaire", "inventaire"),
            (
                K::StaffCreated,
                "marie (animateur)",
                "Compte « marie », animateur",
            ),
            (
                K::StaffCreated,
                "sandrine (admin)",
                "Compte « sandrine », administrateur",
            ),
            (K::StaffLogin, "127.0.0.1", "127.0.0.1"),
            (K::StaffLogout, "127.0.0.1", "127.0.0.1"),
            (K::StaffPasswordChanged, "marie", "Compte « marie »"),
            (K::PosteServiceChanged, "hors_service", "Mis hors service"),
            (K::PosteServiceChanged, "en_service", "Remis en service"),
            (
                K::MessageSent,
                "Fermeture dans 10 minutes",
                "Fermeture dans 10 minutes",
            ),
            (K::PosteUpdated, "P3 (salle 2)", "P3 (salle 2)"),
            (K::PosteRetired, "P3", "P3"),
            (
                K::CategoryChanged,
                "Jeunes (supprimée)",
                "Jeunes (supprimée)",
            ),
            (K::VisitorCreated, "visiteur 12", "visiteur 12"),
            (K::VisitorUpdated, "visiteur 12", "visiteur 12"),
            (
                K::VisitorErased,
                "visiteur 12, 3 session(s) anonymisée(s)",
                "visiteur 12, 3 session(s) anonymisée(s)",
            ),
            (
                K::SettingsChanged,
                "site_name, warning_secs, critical_secs, code_length, code_validity, opening_hours",
                "Nom de l'espace, Premier avertissement, Dernier avertissement, Longueur des codes, Validité des codes, Horaires d'ouverture",
            ),
            (
                K::RetentionPurge,
                "4 session(s), 20 événement(s)",
                "4 session(s), 20 événement(s)",
            ),
            (K::TimeRequested, "15", "15 min demandées"),
            (K::TimeRequestAnswered, "acceptee +15", "Acceptée : +15 min"),
            (K::TimeRequestAnswered, "refusee", "Refusée"),
            (
                K::PosteIncident,
                "restauration_echouee : /home/public",
                "Le profil du visiteur n'a pas pu être restauré : /home/public",
            ),
            (
                K::PosteIncident,
                "restauration_retablie",
                "Le profil du visiteur est de nouveau restauré",
            ),
            (
                K::PosteIncident,
                "inactivite",
                "Session fermée pour inactivité",
            ),
            (
                K::StaffLoginFailed,
                "mot_de_passe:marie",
                "Compte « marie » : mot de passe incorrect",
            ),
            (
                K::StaffLoginThrottled,
                "attente:80:marie",
                "Compte « marie » : trop d'essais depuis cette adresse, attente de 1 min 20 s",
            ),
            (
                K::StaffUnblocked,
                "marie",
                "Compte « marie » : les attentes sont levées",
            ),
            (
                K::StaffDisabled,
                "marie",
                "Compte « marie » : désactivé, ses sessions de la console fermées",
            ),
            (K::StaffEnabled, "marie", "Compte « marie » : réactivé"),
            (
                K::StaffDeleted,
                "marie",
                "Compte « marie » : supprimé (son historique est gardé, son identifiant reste réservé)",
            ),
            (K::ReportSent, "2026-11", "Rapport de novembre 2026"),
            (
                K::ReportSent,
                "2026-11@3",
                "Rapport de novembre 2026 (espace n° 3)",
            ),
            (
                K::PowerOrdered,
                "extinction",
                "Extinction, à la fin de la session en cours s'il y en a une",
            ),
            (
                K::PowerOrdered,
                "redemarrage ecourtee",
                "Redémarrage, la session en cours écourtée",
            ),
            (
                K::RoomLocked,
                "verrouille : Regardez l'animateur",
                "En pause : « Regardez l'animateur »",
            ),
            (K::RoomLocked, "deverrouille", "Pause levée"),
            (
                K::WakeSent,
                "52:54:00:12:34:56",
                "Paquets Wake-on-LAN envoyés à 52:54:00:12:34:56",
            ),
            (
                K::StaffSpacesChanged,
                "paul : *",
                "Compte « paul » : tous les espaces",
            ),
            (
                K::StaffSpacesChanged,
                "marie : Médiathèque, Maison de quartier",
                "Compte « marie » : Médiathèque, Maison de quartier",
            ),
            (
                K::SpaceChanged,
                "Maison de quartier (supprimé)",
                "Maison de quartier (supprimé)",
            ),
            (
                K::ReportFailed,
                "2026-11 : connection refused",
                "Rapport de novembre 2026 : connection refused",
            ),
        ];
        for kind in EventKind::ALL {
            assert!(
                cases.iter().any(|(case, _, _)| *case == kind),
                "{kind:?}: how does its detail read in French?"
            );
        }
        for (kind, detail, french) in cases {
            let read = event_detail(*kind, detail);
            assert_eq!(&read, french, "{kind:?} {detail}");
            // No code reaches staff: no snake_case word, no bare number of seconds.
            assert!(!read.contains('_'), "{kind:?}: {read}");
            assert!(
                !read.starts_with('+') || read.ends_with("min") || read.ends_with(" s"),
                "{kind:?}: {read}"
            );
        }
        // A space's own report, by its name where the history knows it.
        let named = |id: i64| (id == 3).then(|| "Maison de quartier".to_owned());
        assert_eq!(
            event_detail_named(EventKind::ReportSent, "2026-11@3", &named),
            "Rapport de novembre 2026 (espace « Maison de quartier »)"
        );
        assert_eq!(
            event_detail_named(EventKind::ReportFailed, "2026-11@4 : refused", &named),
            "Rapport de novembre 2026 (espace n° 4) : refused"
        );
    }
}

/// The command line's own words: clap's headings and flags, and its refusals, in French.
pub mod cli {
    pub const COMMANDS_HEADING: &str = "Commandes";
    pub const COMMAND_VALUE: &str = "COMMANDE";
    pub const HELP_FLAG: &str = "Affiche cette aide";
    pub const VERSION_FLAG: &str = "Affiche la version";
    pub const SEE_HELP: &str = "Pour l'aide : poste-server --help (ou COMMANDE --help).";
    pub const MISSING_COMMAND: &str = "il manque la commande.";
    pub const BAD_COMMAND_LINE: &str = "ligne de commande incorrecte.";

    pub fn unknown_argument(arg: &str) -> String {
        format!("option inconnue « {arg} ».")
    }

    pub fn unknown_command(command: &str) -> String {
        format!("commande inconnue « {command} ».")
    }

    pub fn missing_argument(args: &str) -> String {
        format!("il manque {args}.")
    }

    pub fn invalid_value(value: &str, arg: &str) -> String {
        format!("valeur « {value} » refusée pour {arg}.")
    }

    /// At start-up: names that differ only by case (or by how an accent was typed) where
    /// they must differ (decision 0015); what to rename, and how.
    pub fn names_fold_alike(clashes: &[poste_store::NameClash]) -> String {
        use poste_store::NamedThing;
        let mut text = String::from(
            "la base contient des noms qui ne diffèrent que par les majuscules (ou par la façon \
             dont un accent a été tapé), alors qu'ils doivent être distincts :\n",
        );
        let mut example = None;
        for clash in clashes {
            let what = match clash.what {
                NamedThing::Workstation => "postes",
                NamedThing::Space => "espaces",
                NamedThing::Category => "catégories de visiteurs",
                NamedThing::VisitorCard => "numéros de carte de visiteur",
                NamedThing::StaffLogin => "identifiants de l'équipe",
            };
            let rows: Vec<String> = clash
                .rows
                .iter()
                .map(|(id, name)| format!("n° {id} « {name} »"))
                .collect();
            text.push_str(&format!(
                "  - {what} (table {}, colonne {}) : {}\n",
                clash.table,
                clash.column,
                rows.join(", ")
            ));
            if let (None, Some((id, _))) = (&example, clash.rows.last()) {
                example = Some(format!(
                    "UPDATE {} SET {} = 'nouveau nom' WHERE id = {id};",
                    clash.table, clash.column
                ));
            }
        }
        text.push_str(
            "Rien n'a été modifié. Renommez-en un de chaque groupe directement dans la base",
        );
        if let Some(example) = example {
            text.push_str(&format!(" (par exemple : {example})"));
        }
        text.push_str(", puis relancez le serveur.");
        text
    }

    pub const PASSWORD_PROMPT: &str = "Mot de passe : ";
    pub const PASSWORD_CONFIRM_PROMPT: &str = "Confirmez le mot de passe : ";
    pub const PASSWORD_GAVE_UP: &str =
        "aucun mot de passe accepté après 5 essais : rien n'a été changé.";
    pub const NO_PASSWORD_ON_STDIN: &str = "aucun mot de passe : l'entrée standard n'est pas un terminal et elle est vide. \
         Lancez la commande dans un terminal, ou donnez le mot de passe sur la première ligne de l'entrée standard.";
    pub const DATABASE_NEW: &str = "Attention : cette base de données n'existait pas, elle vient d'être créée, vide. \
         Si le serveur en utilise une autre, lancez la commande depuis son dossier, ou indiquez-la avec --data-dir ou --database.";

    /// A password refused at the terminal: why, and that it is asked again.
    pub fn try_again(why: &str) -> String {
        format!("{why} Recommencez.")
    }

    pub fn password_from_stdin_refused(why: &str) -> String {
        format!("mot de passe lu sur l'entrée standard refusé : {why}")
    }

    pub fn database_in_use(database: &str) -> String {
        format!("Base de données : {database}")
    }

    pub fn missing_value(arg: &str) -> String {
        format!("il manque la valeur de {arg}.")
    }

    /// A refused command line, and where to find the help.
    pub fn refused(message: &str) -> String {
        format!("Erreur : {message}\n{SEE_HELP}")
    }
}
