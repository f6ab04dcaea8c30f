//! Every text of the visitor's screen, in French, in one place. The refusal messages themselves
//! are the server's (`code_invalid.message`): it knows the reason best.

use std::time::Duration;

pub const WINDOW_TITLE: &str = "Poste public";
pub const DEFAULT_SPACE: &str = "Espace Public Numérique";
pub const GATE_TITLE: &str = "Bienvenue";
pub const GATE_INVITE: &str = "Tapez le code inscrit sur votre ticket, puis appuyez sur Entrée.";
/// On the other screens while the gate is up: where to type.
pub const COVER_POINTER: &str = "Tapez votre code sur l'écran principal.";
pub const GATE_HINT: &str = "Majuscules ou minuscules, avec ou sans espaces : c'est pareil.";
pub const CODE_HINT: &str = "Votre code";
pub const SUBMIT: &str = "Valider";
pub const CHECKING: &str = "Vérification du code…";
pub const EMPTY_CODE: &str = "Tapez d'abord le code inscrit sur votre ticket.";
pub const SERVER_UP: &str = "Serveur : connecté";
pub const SERVER_DOWN: &str = "Serveur injoignable : nouvelle tentative en cours. Les codes ne peuvent pas être vérifiés pour l'instant.";
pub const SERVER_UNKNOWN: &str = "Connexion au serveur…";
pub const SERVICE_DOWN: &str = "Le service du poste ne répond pas : nouvelle tentative en cours. Adressez-vous à l'accueil si cela dure.";
pub const STAFF: &str = "Message de l'accueil";
pub const ANSWER: &str = "Réponse de l'accueil";
pub const TIME_LEFT: &str = "Temps restant";
pub const OFFLINE: &str = "hors ligne : le décompte continue";
pub const SESSION_ENDED: &str = "Session terminée. Au revoir !";
pub const HELP: &str = "Besoin d'aide ? Adressez-vous à l'accueil.";
pub const MORE_TIME: &str = "Plus de temps";
pub const END_MINE: &str = "Terminer";
pub const ASK_TITLE: &str = "Demander plus de temps";
pub const ASK_QUESTION: &str = "Combien de temps voulez-vous demander à l'accueil ?";
/// The durations offered, in minutes, with their labels.
pub const ASK_CHOICES: [(i64, &str); 3] = [(15, "15 minutes"), (30, "30 minutes"), (60, "1 heure")];
pub const ASK_ANY: &str = "Laisser l'accueil choisir";
pub const CANCEL: &str = "Annuler";
pub const END_TITLE: &str = "Terminer ma session";
pub const END_QUESTION: &str = "Voulez-vous vraiment terminer votre session maintenant ? Pensez à enregistrer vos documents sur une clé USB : la session sera fermée.";
pub const END_YES: &str = "Oui, terminer";
pub const END_NO: &str = "Non, continuer";
pub const REQUEST_SENDING: &str = "Envoi de votre demande…";
pub const ENDING: &str = "Fin de la session…";
/// Over the screen while staff lock the room for a workshop.
pub const LOCKED_TITLE: &str = "Pause";
pub const LOCKED_SESSION: &str =
    "Votre session continue : le poste sera de nouveau à vous dans un instant.";

/// `Réessayez dans 42 s.`, counted down on the screen while the server makes the visitor wait.
pub fn retry_in(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!("Réessayez dans {} s.", secs.max(1))
}

/// The title of the cover on screen `number` (2, 3, …): not shown (no decorations), but what
/// window lists and tests name it by.
pub fn cover_title(number: usize) -> String {
    format!("{WINDOW_TITLE} — écran {number}")
}

/// `Bonjour Awa`.
pub fn hello(name: &str) -> String {
    format!("Bonjour {name}")
}

/// `01:59:58`, or `59:58` under an hour.
pub fn clock(remaining: Duration) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    if secs >= 3600 {
        format!(
            "{:02}:{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    } else {
        format!("{:02}:{:02}", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_well() {
        assert_eq!(clock(Duration::from_millis(7_199_001)), "02:00:00");
        assert_eq!(clock(Duration::from_millis(2_500)), "00:03");
        assert_eq!(clock(Duration::ZERO), "00:00");
        assert_eq!(
            retry_in(Duration::from_millis(41_200)),
            "Réessayez dans 42 s."
        );
        assert_eq!(retry_in(Duration::ZERO), "Réessayez dans 1 s.");
        assert_eq!(hello("Awa"), "Bonjour Awa");
        assert_eq!(cover_title(2), "Poste public — écran 2");
    }
}
