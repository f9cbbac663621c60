// Reads the lesson collection in course order; the one place pages get lessons from.
import { type CollectionEntry, getCollection } from 'astro:content';

export type Lesson = CollectionEntry<'lessons'>;

/** All lessons sorted by `order`; fails the build when two lessons claim the same position. */
export async function lessonsInOrder(): Promise<Lesson[]> {
  const lessons = await getCollection('lessons');
  lessons.sort((a, b) => a.data.order - b.data.order);
  for (let i = 1; i < lessons.length; i++) {
    const [prev, cur] = [lessons[i - 1]!, lessons[i]!];
    if (prev.data.order === cur.data.order) {
      throw new Error(`lessons "${prev.id}" and "${cur.id}" both have order ${cur.data.order}; give each its own`);
    }
  }
  return lessons;
}

export function lessonHref(lesson: Lesson): string {
  return `/lessons/${lesson.id}/`;
}
