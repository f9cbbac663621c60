// Astro builds the course as a static site; the sandbox server serves it next to the API on one port.
import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';

export default defineConfig({
  srcDir: './site',
  outDir: process.env.SIDECAR_LAB_SITE_OUT ?? './dist/site',
  output: 'static',
  trailingSlash: 'ignore',
  integrations: [mdx()],
  devToolbar: { enabled: false },
  telemetry: false,
});
