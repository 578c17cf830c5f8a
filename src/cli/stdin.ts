// Standard input for `-f -`, read as a stream: a synchronous read of fd 0
// fails with EAGAIN when the input arrives later than the command starts.

export async function readStdinIfNeeded(paths: string[] | undefined): Promise<string> {
  if (!paths?.includes('-')) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
