// The examples in the sidebar: ready-made requests the engine ships.
import { errorText, notify, useApp } from './app-store';
import { getClient } from './client';

export async function loadExamples(): Promise<void> {
  try {
    useApp.setState({ examples: await getClient().listExamples(), examplesLoaded: true });
  } catch (err) {
    useApp.setState({ examplesLoaded: true });
    notify(`Could not load the examples: ${errorText(err)}`, 'error');
  }
}
