import { Command } from '@oclif/core/command';

export default class ImageBuild extends Command {
  static override summary = 'Build the node image (Node.js, its libraries, the kcs agent) in the local Docker daemon.';
  static override description = 'kcs up builds it automatically when it is missing; the tag is a hash of the content, so a changed agent gets a new image. No registry is used.';
  static override examples = ['<%= config.bin %> image build'];

  async run(): Promise<string> {
    await this.parse(ImageBuild);
    const { default: Docker } = await import('dockerode');
    const { ensureImage, imageExists, planImage, IMAGE_REPO } = await import('../../../runtime/image.ts');
    const docker = new Docker();
    const ref = `${IMAGE_REPO}:${planImage().tag}`;
    try {
      if (await imageExists(docker, ref)) {
        this.log(`${ref} is up to date`);
        return ref;
      }
      await ensureImage(docker, (m) => this.log(m));
    } catch (err) {
      this.error(`cannot build the node image: ${(err as Error).message}`, { exit: 1, suggestions: ['is dockerd running? (see the README)'] });
    }
    return ref;
  }
}
