//! SVG pages made one PDF, in pure Rust (decision 0011): each A4 page is an SVG drawn by the
//! server, read by usvg with the fonts compiled into the binary (no system font, no browser),
//! turned into a PDF object by svg2pdf and laid over a whole page.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, TextStr};
use svg2pdf::usvg;

/// The family every page is written in; the files are vendored with their licence
/// (`assets/fonts/LICENSE-DejaVu.txt`).
pub const FONT_FAMILY: &str = "DejaVu Sans";
const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// An A4 sheet in PDF points.
const A4_WIDTH: f32 = 595.28;
const A4_HEIGHT: f32 = 841.89;

/// Why a report could not be made a PDF (a bug of ours: the pages are our own SVG).
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("page {page}: unreadable SVG: {message}")]
    Svg { page: usize, message: String },
    #[error("page {page}: SVG to PDF: {message}")]
    Convert { page: usize, message: String },
}

/// The compiled-in fonts, loaded once (parsing them takes a few milliseconds).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    Arc::clone(FONTS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(REGULAR.to_vec());
        fonts.load_font_data(BOLD.to_vec());
        fonts.set_sans_serif_family(FONT_FAMILY);
        Arc::new(fonts)
    }))
}

/// One PDF of the `pages` (SVG documents sized as A4), titled `title`.
pub fn pdf_of_pages(pages: &[String], title: &str) -> Result<Vec<u8>, PdfError> {
    let options = usvg::Options {
        font_family: FONT_FAMILY.to_owned(),
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let mut next_ref = Ref::new(1);
    let catalog_id = next_ref.bump();
    let page_tree_id = next_ref.bump();
    let info_id = next_ref.bump();
    let mut pdf = Pdf::new();
    let mut page_ids = Vec::with_capacity(pages.len());
    let svg_name = Name(b"Page");
    for (index, svg) in pages.iter().enumerate() {
        let page = index + 1;
        let tree = usvg::Tree::from_str(svg, &options).map_err(|err| PdfError::Svg {
            page,
            message: err.to_string(),
        })?;
        let (chunk, svg_id) = svg2pdf::to_chunk(&tree, svg2pdf::ConversionOptions::default())
            .map_err(|err| PdfError::Convert {
                page,
                message: err.to_string(),
            })?;
        // The chunk numbers its objects from 1: renumber them after ours.
        let mut renumbered = HashMap::new();
        let chunk = chunk.renumber(|old| *renumbered.entry(old).or_insert_with(|| next_ref.bump()));
        let svg_id = renumbered
            .get(&svg_id)
            .copied()
            .ok_or_else(|| PdfError::Convert {
                page,
                message: "the page's object was not in its chunk".to_owned(),
            })?;
        let page_id = next_ref.bump();
        let content_id = next_ref.bump();
        let mut writer = pdf.page(page_id);
        writer
            .media_box(Rect::new(0.0, 0.0, A4_WIDTH, A4_HEIGHT))
            .parent(page_tree_id)
            .contents(content_id);
        writer.resources().x_objects().pair(svg_name, svg_id);
        writer.finish();
        // svg2pdf's object is one point square: scaled to the sheet.
        let mut content = Content::new();
        content
            .transform([A4_WIDTH, 0.0, 0.0, A4_HEIGHT, 0.0, 0.0])
            .x_object(svg_name);
        pdf.stream(content_id, &content.finish());
        pdf.extend(&chunk);
        page_ids.push(page_id);
    }
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("Postes Publics"));
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pages_with_french_text_make_a_pdf_with_one_page_each() {
        let page = |text: &str| {
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"210mm\" height=\"297mm\" \
                 viewBox=\"0 0 794 1123\"><text x=\"50\" y=\"80\" font-size=\"20\">{text}</text></svg>"
            )
        };
        let pdf = pdf_of_pages(
            &[page("Rapport de décembre « 2026 »"), page("Page deux…")],
            "Rapport",
        )
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
        assert_eq!(pages, 2);
        // The font travels with the document.
        assert!(text.contains("DejaVu"));
    }

    #[test]
    fn an_unreadable_page_is_an_error_naming_it() {
        let err = pdf_of_pages(&["<svg".to_owned()], "x").unwrap_err();
        assert!(matches!(err, PdfError::Svg { page: 1, .. }), "{err}");
    }
}
