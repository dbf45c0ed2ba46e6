/** The page's API client for its components (reads and changes go through api/queries.ts). */

import { createContext, useContext } from 'react';
import type { ApiClient } from './api-client';

export const ApiContext = createContext<ApiClient | null>(null);

export function useApiClient(): ApiClient {
  const client = useContext(ApiContext);
  if (client === null) throw new Error('useApiClient outside <ApiContext>');
  return client;
}
