//! The sample content as loaded, pinned: a change to a content file or to how
//! it is read (defaults, rounding of distances, id order) shows up here as a
//! snapshot diff in review.

use game_core::content::Content;

#[test]
fn the_sample_content_as_loaded() {
    insta::assert_debug_snapshot!("sample_content", Content::sample());
}
