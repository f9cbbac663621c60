// What every request carries through the app: its id (for logs and errors) and the learner's session.
export type AppEnv = { Variables: { session: string; requestId: string } };
