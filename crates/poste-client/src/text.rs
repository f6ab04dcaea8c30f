//! Every text the person at the workstation reads, in French, in one place.

use std::time::Duration;

use poste_desktop::PowerAction;

pub const NOTIFICATION_TITLE: &str = "Poste public";
pub const PROMPT: &str = "Code d'accès : ";
pub const CONNECTING: &str = "Connexion au serveur…";
pub const CONNECTED: &str = "connecté";
pub const OFFLINE: &str = "hors ligne";
pub const CODE_CHECKING: &str = "Vérification du code…";
pub const SESSION_LOCAL_END: &str = "Votre temps est écoulé";
pub const SESSION_LOCKING: &str = "Verrouillage de l'écran…";
pub const SESSION_LOGGING_OUT: &str = "Fermeture de la session…";
pub const GOODBYE: &str = "Session terminée. Au revoir !";
/// The service restarted during a session and takes it up (nothing is lost).
pub const SESSION_RESUMED: &str = "Votre session continue : le temps restant est conservé.";
pub const EMPTY_CODE: &str = "Tapez le code inscrit sur votre ticket.";
pub const STAFF_MESSAGE: &str = "Message de l'accueil";
pub const REQUEST_OFFLINE: &str = "Impossible de demander du temps pour l'instant : le poste n'est pas relié au serveur. Adressez-vous à l'accueil.";
pub const VISITOR_ENDED: &str = "Vous avez terminé votre session";
/// Typed at a terminal during a session: ask for more time, end the session.
/// The line the visitor types on during a session, at a terminal, under the countdown.
pub const SESSION_PROMPT: &str = "Votre demande (« plus » ou « fin ») : ";
pub const WORD_YES: &str = "oui";
pub const CONFIRM_END: &str = "Terminer votre session maintenant ? Tapez « oui » pour confirmer, ou autre chose pour continuer.";
pub const SESSION_GOES_ON: &str = "Votre session continue.";
pub const WORD_MORE_TIME: &str = "plus";
pub const WORD_END: &str = "fin";
pub const TERMINAL_WORDS: &str =
    "Pendant la session : tapez « plus » pour demander du temps, « fin » pour terminer.";

pub const HOME_RESTORING: &str = "Remise en état du poste pour le visiteur suivant…";
/// Shown on the gate while the visitor's home could not be restored: for staff.
pub const OUT_OF_SERVICE_STAFF: &str = "Poste hors service : la remise en état du compte visiteur a échoué. \
Personnel : voir l'historique de la console (incident sur ce poste) ; le poste réessaie de lui-même \
toutes les 5 minutes et au redémarrage du service poste-client.";
/// A code typed while the workstation is out of service.
pub const OUT_OF_SERVICE_VISITOR: &str =
    "Ce poste est momentanément hors service. Adressez-vous à l'accueil.";
/// A code typed while the server cannot be reached: nothing can check it, nothing waits.
pub const CODE_SERVER_UNREACHABLE: &str = "Le serveur est injoignable : votre code ne peut pas être vérifié pour l'instant. \
Réessayez dans un moment, ou adressez-vous à l'accueil.";
pub const BACK_IN_SERVICE: &str = "Poste remis en état : il est de nouveau disponible.";
pub const INACTIVITY_END: &str = "Session fermée après une période sans activité";

/// A power order (`power`) during a session: nothing changes until its end.
pub fn power_after_session(action: PowerAction) -> &'static str {
    if action == PowerAction::Restart {
        "Le poste redémarrera à la fin de votre session."
    } else {
        "Le poste s'éteindra à la fin de votre session."
    }
}

/// A power order on the gate: its notice.
pub fn power_soon(action: PowerAction, notice: Duration) -> String {
    let secs = notice.as_secs();
    let verb = if action == PowerAction::Restart {
        "redémarrer"
    } else {
        "s'éteindre"
    };
    match secs {
        0 => format!("Ce poste va {verb} maintenant."),
        1 => format!("Ce poste va {verb} dans 1 seconde."),
        _ => format!("Ce poste va {verb} dans {secs} secondes."),
    }
}

/// A code typed on the gate while a power order waits or runs.
pub fn power_code_refused(action: PowerAction) -> &'static str {
    if action == PowerAction::Restart {
        "Ce poste va redémarrer : il n'accepte pas de code pour l'instant. Réessayez dans quelques minutes."
    } else {
        "Ce poste va s'éteindre : il n'accepte plus de code. Adressez-vous à l'accueil."
    }
}

/// The power order is being carried out.
pub fn powering(action: PowerAction) -> &'static str {
    if action == PowerAction::Restart {
        "Redémarrage du poste…"
    } else {
        "Extinction du poste…"
    }
}

/// The power order could not be carried out (told to staff through the server's report).
pub const POWER_FAILED: &str =
    "L'extinction ou le redémarrage demandé par l'accueil a échoué ; le poste reste en service.";

pub fn home_restore_failed(detail: &str) -> String {
    format!(
        "Le dossier personnel du compte visiteur n'a pas pu être restauré depuis le modèle ; \
le poste reste verrouillé. Détail : {detail}"
    )
}

pub const HOME_RESTORED_AGAIN: &str =
    "Le dossier personnel du compte visiteur a été restauré ; le poste est de nouveau disponible.";

pub fn inactivity_warning(left: Duration) -> String {
    let secs = left.as_secs().max(1);
    if secs >= 90 {
        format!(
            "Sans activité de votre part, votre session sera fermée dans {} minutes",
            (secs + 30) / 60
        )
    } else if secs >= 60 {
        "Sans activité de votre part, votre session sera fermée dans 1 minute".to_owned()
    } else {
        format!("Sans activité de votre part, votre session sera fermée dans {secs} secondes")
    }
}

pub fn inactivity_incident(minutes: u64) -> String {
    format!("Session fermée par le poste après {minutes} minutes sans activité du visiteur.")
}

pub fn enrolling(poste: &str) -> String {
    format!("Enrôlement du poste « {poste} » auprès du serveur…")
}

pub const NOT_RECOGNISED: &str = "Ce poste n'est pas reconnu par le serveur. Faites-le enrôler : \
poste-client --enroll CODE (code donné par un administrateur : poste-server poste enroll-code).";

/// On the gate of a workstation the server does not recognise yet (short: visitors see it too).
pub const WAITING_ENROLLMENT: &str = "Ce poste n'est pas encore en service : un administrateur doit \
l'approuver (console, page « Postes »). Il se connectera ensuite de lui-même.";
/// On the gate of a workstation whose enrollment the server refused (`words`: its reason, for
/// IT, who must correct the workstation's configuration and enroll it again).
pub fn enrollment_refused(words: &str) -> String {
    format!("Ce poste n'est pas en service : le serveur a refusé son enrôlement. {words}")
}
pub const INSTALL_ASK_SERVER: &str = "Adresse du serveur (par ex. http://192.168.1.10:8001) : ";
pub const INSTALL_NEEDS_SERVER: &str =
    "Indiquez l'adresse du serveur : poste-client install --server http://192.168.1.10:8001 --yes";
pub const INSTALL_STARTED: &str =
    "Service poste-client démarré ; l'assistant démarrera avec la prochaine session graphique.";
pub const UNINSTALLED: &str = "poste-client désinstallé.";
pub const GATE_INSTALLED: &str =
    "Portail avant connexion installé (greetd) : il s'affichera au prochain démarrage du poste.";
/// Printed by an install that found everything as asked already. Ansible's playbook reads it
/// (`changed_when`): change both together.
pub const INSTALL_UNCHANGED: &str = "Rien à changer : ce poste était déjà installé ainsi.";
pub const GATE_LINUX_ONLY: &str =
    "--gate : le portail avant connexion n'existe que sous Linux (greetd).";

pub fn installed(root: &str) -> String {
    format!("poste-client installé sous {root} (binaire, configuration, services).")
}

/// The Windows service's name and description, as the services console shows them.
pub const SERVICE_DISPLAY_NAME: &str = "Postes Publics : agent du poste";
pub const SERVICE_DESCRIPTION: &str = "Sessions minutées du poste public : lien avec le serveur, décompte, verrouillage et fermeture de la session du visiteur.";
pub const WINDOWS_INSTALL_STARTED: &str = "Service Windows poste-client démarré ; il lance l'assistant dans la session de chaque visiteur.";

pub const HELPER_REFUSED: &str = "Le service du poste refuse cet assistant : il ne tourne pas dans la session de son utilisateur.";
pub const KIOSK_MISSING: &str = "L'affichage kiosk demande le programme poste-kiosk, installé à côté de poste-client : il est introuvable.";
/// The gate could not open the public account's session (greetd refused, or no greetd).
pub fn handover_failed(err: &str) -> String {
    format!("La session du poste n'a pas pu s'ouvrir ({err}). Appelez un animateur.")
}
pub const HANDOVER_NO_GREETD: &str =
    "GREETD_SOCK absent : ce portail ne tourne pas comme écran de connexion de greetd";
pub fn unknown_account(account: &str) -> String {
    format!(
        "[greeter] : le compte public « {account} » n'existe pas sur ce poste (poste-client install le crée)"
    )
}
pub fn kiosk_failed(err: &str) -> String {
    format!("Impossible de lancer poste-kiosk : {err}")
}
pub const HELPER_NO_SESSION: &str = "Session inconnue (XDG_SESSION_ID absent ou invalide) : l'assistant doit être lancé dans la session graphique du visiteur.";

pub fn server_unreachable(retry_in: Duration) -> String {
    format!(
        "Serveur injoignable, nouvelle tentative dans {} s",
        retry_in.as_secs().max(1)
    )
}

/// The server's certificate was refused (`detail`: rustls' reason, e.g. `UnknownIssuer`).
pub fn tls_refused(detail: &str) -> String {
    format!(
        "Certificat du serveur refusé ({detail}) : vérifiez ca_file dans la configuration du poste \
(le fichier de l'autorité qui a signé le certificat du serveur) et l'adresse du serveur"
    )
}

pub fn session_started(name: &str, remaining: Duration) -> String {
    format!(
        "Bienvenue {name} ! Votre session est ouverte pour {}.",
        clock(remaining)
    )
}

/// Staff gave more time during the session.
pub fn time_added(added: Duration, remaining: Duration) -> String {
    let secs = added.as_secs();
    let added = if secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        clock(added)
    };
    format!(
        "Du temps a été ajouté à votre session : +{added}. Il vous reste {}.",
        clock(remaining)
    )
}

pub fn warning(remaining: Duration) -> String {
    let secs = remaining.as_secs_f64().round() as u64;
    if secs >= 60 {
        let minutes = (secs + 30) / 60;
        if minutes > 1 {
            format!("Il vous reste {minutes} minutes")
        } else {
            "Il vous reste 1 minute".to_owned()
        }
    } else if secs > 1 {
        format!("Il vous reste {secs} secondes")
    } else {
        "Il vous reste 1 seconde".to_owned()
    }
}

/// `01:59:58`.
pub fn clock(remaining: Duration) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The countdown line.
pub fn countdown_line(remaining: Duration, percent_used: u8, connected: bool) -> String {
    let filled = usize::from(percent_used.min(100)) / 5;
    format!(
        "Temps restant : {}  [{}{}]  {}",
        clock(remaining),
        "█".repeat(20 - filled),
        "·".repeat(filled),
        if connected { CONNECTED } else { OFFLINE }
    )
}

/// The room locked by staff for a workshop, when they gave no words of their own.
pub const ROOM_LOCKED: &str =
    "Un animateur a mis les postes en pause : regardez-le, la séance reprend dans un instant.";
pub const ROOM_UNLOCKED: &str = "Le poste est de nouveau à vous.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_well() {
        assert_eq!(clock(Duration::from_millis(7_199_001)), "02:00:00");
        assert_eq!(clock(Duration::from_secs(5340)), "01:29:00");
        assert_eq!(warning(Duration::from_secs(300)), "Il vous reste 5 minutes");
        assert_eq!(warning(Duration::from_secs(60)), "Il vous reste 1 minute");
        assert_eq!(
            warning(Duration::from_millis(2_900)),
            "Il vous reste 3 secondes"
        );
        assert!(countdown_line(Duration::from_secs(60), 50, true).contains("connecté"));
    }
}
