// Content collections: the lessons, loaded from the top-level lessons/ folder.
import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { lessonSchema } from './content/lesson-schema.ts';

/** Tests point this at a folder of invalid lessons to prove the build names the bad file and field. */
const lessonsDir = process.env.SIDECAR_LAB_LESSONS_DIR ?? './lessons';

const lessons = defineCollection({
  loader: glob({ pattern: '**/*.mdx', base: lessonsDir }),
  schema: lessonSchema,
});

export const collections = { lessons };
