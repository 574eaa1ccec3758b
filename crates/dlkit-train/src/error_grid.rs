//! A grid of image tiles, each with a caption below it, as a PNG (`errors.png` of
//! [`crate::error_analysis`]). Tiles are laid out row by row, [`GridLayout::cols`] to a row;
//! each image is scaled (nearest neighbour) so that its longer side is
//! [`GridLayout::IMAGE_SIDE`] pixels, and centred in its tile. Captions use the font shipped
//! with [`crate::plots`]; the file is written atomically.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plots::{ensure_font, PlotError, FAMILY};
use dlkit_nn::io::write_atomic;

/// One tile: an image as RGB bytes, row-major `[height, width, 3]`, and its caption.
#[derive(Clone, Debug)]
pub struct Tile {
    pub height: usize,
    pub width: usize,
    pub rgb: Vec<u8>,
    pub caption: String,
}

/// Where the tiles go: `cols` to a row, `rows` rows, each tile `tile_width` x `tile_height`
/// pixels; the PNG is `cols · tile_width` by `rows · tile_height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLayout {
    pub cols: usize,
    pub rows: usize,
    pub tile_width: u32,
    pub tile_height: u32,
}

impl GridLayout {
    /// The most tiles to a row.
    pub const MAX_COLS: usize = 4;
    /// The side of the square an image is scaled into.
    pub const IMAGE_SIDE: u32 = 192;
    /// The width of a tile, which leaves room for a caption's line.
    pub const TILE_WIDTH: u32 = 300;
    /// The height of the caption's band below the image.
    pub const CAPTION_HEIGHT: u32 = 32;

    /// The layout of `n` tiles (at least one).
    pub fn for_tiles(n: usize) -> GridLayout {
        let cols = n.clamp(1, Self::MAX_COLS);
        GridLayout {
            cols,
            rows: n.max(1).div_ceil(cols),
            tile_width: Self::TILE_WIDTH,
            tile_height: Self::IMAGE_SIDE + Self::CAPTION_HEIGHT + 8,
        }
    }

    /// The image's width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (
            self.cols as u32 * self.tile_width,
            self.rows as u32 * self.tile_height,
        )
    }
}

/// Draws `tiles` as [`GridLayout::for_tiles`] lays them out and writes the PNG to `path`.
pub fn plot_tiles(path: &Path, tiles: &[Tile]) -> Result<GridLayout, PlotError> {
    let layout = GridLayout::for_tiles(tiles.len());
    let (w, h) = layout.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    for (t, tile) in tiles.iter().enumerate() {
        let x0 = (t % layout.cols) as u32 * layout.tile_width;
        let y0 = (t / layout.cols) as u32 * layout.tile_height;
        blit(&mut buf, w, tile, x0, y0 + 4, layout.tile_width);
    }
    ensure_font();
    let draw_err = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        for (t, tile) in tiles.iter().enumerate() {
            let cx = (t % layout.cols) as u32 * layout.tile_width + layout.tile_width / 2;
            let y = (t / layout.cols) as u32 * layout.tile_height + GridLayout::IMAGE_SIDE + 10;
            let style = caption_style(&root, &tile.caption, layout.tile_width - 8);
            let text = Text::new(tile.caption.clone(), (cx as i32, y as i32), style);
            root.draw(&text).map_err(|e| draw_err(e.to_string()))?;
        }
        root.present().map_err(|e| draw_err(e.to_string()))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).expect("the buffer is w * h * 3 bytes");
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| draw_err(format!("PNG encoding: {e}")))?;
    write_atomic(path, &out).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(layout)
}

/// The caption's style: 14 px, smaller (down to 9 px) while it is wider than `max_width`.
fn caption_style<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    max_width: u32,
) -> TextStyle<'static> {
    let style = |size: u32| {
        TextStyle::from((FAMILY, size).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top))
    };
    (9..=14)
        .rev()
        .map(style)
        .find(|s| {
            root.estimate_text_size(caption, s)
                .is_ok_and(|(tw, _)| tw <= max_width)
        })
        .unwrap_or_else(|| style(9))
}

/// Copies `tile`, scaled (nearest neighbour) so that its longer side is
/// [`GridLayout::IMAGE_SIDE`], into the RGB buffer of width `w`, centred in the tile of width
/// `tile_width` whose top left is at `(x0, y0)`.
fn blit(buf: &mut [u8], w: u32, tile: &Tile, x0: u32, y0: u32, tile_width: u32) {
    let side = GridLayout::IMAGE_SIDE as usize;
    let longest = tile.height.max(tile.width).max(1);
    let (sh, sw) = (
        (tile.height * side / longest).max(1),
        (tile.width * side / longest).max(1),
    );
    let left = x0 as usize + (tile_width as usize - sw) / 2;
    let top = y0 as usize + (side - sh) / 2;
    for y in 0..sh {
        for x in 0..sw {
            let src = ((y * tile.height / sh) * tile.width + x * tile.width / sw) * 3;
            let dst = ((top + y) * w as usize + left + x) * 3;
            buf[dst..dst + 3].copy_from_slice(&tile.rgb[src..src + 3]);
        }
    }
}
