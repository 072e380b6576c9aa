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

/**
 * A one-frame Y4M video (what Chromium's fake camera plays, `--use-file-for-fake-video-capture`)
 * of a PNG shown in the middle of a `width` × `height` grey frame, scaled by a whole factor so
 * that it fills at most `fill` of the frame's height.
 */
export function pngToY4m(buffer, width = 640, height = 480, fill = 0.75) {
  const png = PNG.sync.read(buffer);
  const scale = Math.max(1, Math.floor((height * fill) / Math.max(png.width, png.height)));
  const [w, h] = [png.width * scale, png.height * scale];
  const [left, top] = [Math.floor((width - w) / 2), Math.floor((height - h) / 2)];
  const luma = Buffer.alloc(width * height, 110);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (Math.floor(y / scale) * png.width + Math.floor(x / scale)) * 4;
      const d = png.data;
      luma[(top + y) * width + left + x] = (77 * d[i] + 150 * d[i + 1] + 29 * d[i + 2]) >> 8;
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\nFRAME\n`);
  return Buffer.concat([header, luma, chroma]);
}
