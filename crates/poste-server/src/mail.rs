//! Mail from the server (the monthly report): one message to the addresses set in « Réglages », its PDF
//! attached, through the SMTP server of the configuration (`[mail]`), STARTTLS required unless
//! turned off, with rustls (ring) and the system's roots or the site's CA file.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;

/// Why a report could not be mailed, or the mail set-up could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail.from `{0}` is not an address such as `EPN <epn@mairie.example>`")]
    Sender(String),
    #[error("mail.host is set without mail.from")]
    NoSender,
    #[error("mail.password_file {path}: {source}")]
    PasswordFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("mail.tls_ca_file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("TLS set-up for {host}: {source}")]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("recipient `{0}` is not an e-mail address")]
    Recipient(String),
    #[error("no recipient")]
    NoRecipient,
    #[error("the PDF's content type")]
    ContentType,
    #[error("message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// One e-mail with a PDF attached.
#[derive(Debug)]
pub struct ReportMail<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub file_name: &'a str,
    pub pdf: Vec<u8>,
}

/// The SMTP server the reports go through, set up once at start.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where it sends, for the logs.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer of `[mail]`, or `None` without `mail.host`. Reads the password and CA
    /// files now, so that a mistake stops the start-up rather than a report a month later.
    pub fn from_config(config: &MailConfig) -> Result<Option<Mailer>, MailError> {
        let Some(host) = config.host.as_deref().map(str::trim) else {
            return Ok(None);
        };
        let from = config.from.as_deref().ok_or(MailError::NoSender)?;
        let from: Mailbox = from
            .parse()
            .map_err(|_| MailError::Sender(from.to_owned()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port)
            .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        builder = if config.starttls {
            let mut tls = TlsParameters::builder(host.to_owned());
            if let Some(path) = &config.tls_ca_file {
                let ca_error = |message: String| MailError::CaFile {
                    path: path.display().to_string(),
                    message,
                };
                let pem = std::fs::read(path).map_err(|err| ca_error(err.to_string()))?;
                let ca = Certificate::from_pem(&pem).map_err(|err| ca_error(err.to_string()))?;
                // The site's CA only, as the agent's `ca_file` does.
                tls = tls
                    .certificate_store(CertificateStore::None)
                    .add_root_certificate(ca);
            }
            let tls = tls.build_rustls().map_err(|source| MailError::Tls {
                host: host.to_owned(),
                source,
            })?;
            builder.tls(Tls::Required(tls))
        } else {
            builder.tls(Tls::None)
        };
        if let Some(username) = &config.username {
            let password = match (&config.password, &config.password_file) {
                (_, Some(path)) => std::fs::read_to_string(path)
                    .map_err(|source| MailError::PasswordFile {
                        path: path.display().to_string(),
                        source,
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
                (Some(password), None) => password.clone(),
                (None, None) => String::new(),
            };
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            server: format!("{host}:{}", config.port),
        }))
    }

    /// `smtp.example.org:587`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `mail` to every address of `recipients` in one message.
    pub async fn send(&self, recipients: &[String], mail: ReportMail<'_>) -> Result<(), MailError> {
        if recipients.is_empty() {
            return Err(MailError::NoRecipient);
        }
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject);
        for recipient in recipients {
            let to: Mailbox = recipient
                .parse()
                .map_err(|_| MailError::Recipient(recipient.clone()))?;
            message = message.to(to);
        }
        let pdf = ContentType::parse("application/pdf").map_err(|_| MailError::ContentType)?;
        let message = message.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(mail.body.to_owned()))
                .singlepart(Attachment::new(mail.file_name.to_owned()).body(mail.pdf, pdf)),
        )?;
        self.transport.send(message).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn config(host: Option<&str>, from: Option<&str>) -> MailConfig {
        MailConfig {
            host: host.map(str::to_owned),
            from: from.map(str::to_owned),
            ..MailConfig::default()
        }
    }

    #[test]
    fn the_mail_set_up_is_read_at_start_and_its_mistakes_named() {
        assert!(Mailer::from_config(&config(None, None)).unwrap().is_none());
        let mailer = Mailer::from_config(&config(
            Some("smtp.mairie.example"),
            Some("EPN <epn@mairie.example>"),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(mailer.server(), "smtp.mairie.example:587");
        assert!(matches!(
            Mailer::from_config(&config(
                Some("smtp.mairie.example"),
                Some("pas une adresse")
            )),
            Err(MailError::Sender(_))
        ));
        let missing_ca = MailConfig {
            tls_ca_file: Some("/nonexistent/smtp-ca.pem".into()),
            ..config(Some("smtp.mairie.example"), Some("epn@mairie.example"))
        };
        let err = Mailer::from_config(&missing_ca).unwrap_err();
        assert!(matches!(err, MailError::CaFile { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/smtp-ca.pem"));
    }
}
