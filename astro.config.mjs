// Astro builds the course as a static site; the sandbox server serves it next to the API on one port.
import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';
import csp from './site/integrations/csp.ts';
import precompress from './site/integrations/precompress.ts';

export default defineConfig({
  srcDir: './site',
  outDir: process.env.SIDECAR_LAB_SITE_OUT ?? './dist/site',
  output: 'static',
  trailingSlash: 'ignore',
  integrations: [mdx(), csp(), precompress()],
  markdown: {
    // Both palettes are emitted at build time; global.css picks one from the page theme, so no script is needed.
    shikiConfig: { themes: { light: 'github-light', dark: 'github-dark' }, defaultColor: 'light' },
  },
  devToolbar: { enabled: false },
  telemetry: false,
});
