// Package jpegdc decodes a JPEG at one eighth of its width and height from
// its DC coefficients alone.
//
// A timeline thumbnail of a 4000×3000 photo needs a few hundred pixels
// across; image/jpeg decodes all twelve million. The DC coefficient of an
// 8×8 block is the block's mean, so the 1/8-scale image is the DC
// coefficients dequantised, with no inverse DCT, no AC coefficients kept
// and 1/64 of the colour conversion. This is libjpeg's scale_denom 8.
// The entropy-coded AC data must still be read to find where each block
// ends (baseline), while progressive files keep their AC data in scans of
// their own, which are skipped unread.
//
// Supported: baseline and extended sequential Huffman (SOF0, SOF1) and
// progressive Huffman (SOF2), 8-bit samples, one component (grey) or three
// (YCbCr, or RGB as the Adobe marker or component IDs say), any integral
// sampling factors, restart intervals. Anything else (arithmetic coding,
// lossless, 12-bit, CMYK, DNL) is ErrUnsupported, so the caller can fall
// back to a full decoder; damaged data is a *FormatError.
package jpegdc
