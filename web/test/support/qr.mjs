// Reads QR codes back with jsQR, a decoder independent of the encoder under test, and reports
// the bytes and the segment modes it found, so tests can insist on byte mode.
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/** Decodes RGBA pixels; returns { text, bytes, modes } or throws if no code is found. */
export function decodeRgba(data, width, height) {
  const found = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), width, height, {
    inversionAttempts: 'dontInvert',
  });
  if (!found) throw new Error(`no QR code found in a ${width}x${height} image`);
  return {
    text: found.data,
    bytes: Buffer.from(found.binaryData),
    modes: found.chunks.map((chunk) => chunk.type),
  };
}

/** Decodes a PNG, such as a Playwright screenshot. */
export function decodePng(buffer) {
  const png = PNG.sync.read(buffer);
  return decodeRgba(png.data, png.width, png.height);
}

/**
 * Rasterizes the SVG that renderQrSvg draws (a background rect and one path of
 * `M x y h w v1 h-w z` runs) at `scale` pixels a module, then decodes it.
 */
export function decodeSvg(svg, scale = 4) {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  if (!viewBox) throw new Error('no viewBox in the SVG');
  const side = Number(viewBox[1]);
  const width = side * scale;
  const pixels = Buffer.alloc(width * width * 4, 255);
  for (const [, x, y, run] of svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    for (let dy = 0; dy < scale; dy++) {
      const row = (Number(y) * scale + dy) * width;
      for (let px = Number(x) * scale; px < (Number(x) + Number(run)) * scale; px++) {
        pixels.fill(0, (row + px) * 4, (row + px) * 4 + 3);
      }
    }
  }
  return decodeRgba(pixels, width, width);
}

/** A white PNG with no code in it. */
export function blankPng(width, height) {
  const png = new PNG({ width, height });
  png.data.fill(255);
  return PNG.sync.write(png);
}
